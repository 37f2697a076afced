// Exactly once without trusting Whop's idempotency. Every mutation still carries an Idempotency-Key,
// but no Whop doc confirms the header and the official SDK never sends it (WHOP.md section 2), so
// nothing here relies on it. A call's outcome is *unknown* when it was sent and no answer says what
// happened: a timeout, a network error, a 5xx (client_outcome.ts `outcomeUnknown`), or a dispatcher
// that died holding the job's lease. Repeating such a call blindly could act twice, so the client
// the dispatcher hands to sendJob checks Whop first, against what it wrote down with the job
// (`job_queue.observed_before`, written only while this worker holds the lease) before the call:
//
// * free days: before the first add_free_days call the membership is read and its
//   renewal_period_end / expires_at recorded. Every later attempt reads it again: if either moved
//   later, the days were added and the job is recorded as sent without calling; if not, it calls
//   again; if the read fails, it does not call and the job is retried later. A membership that shows
//   nothing to compare ends the job `dead` after an unknown outcome rather than risk a second grant.
// * DM: before each POST /messages the channel, the wall-clock time of the first send and a SHA-256
//   of the exact content are recorded (the content differs per attempt: its link is signed anew).
//   A later attempt lists the channel's latest messages (GET /messages) and, if one of ours sent
//   since just before the first send is there, records the job as sent without sending again.
// * push: Whop offers no way to read notifications back. A push whose outcome was unknown is resent
//   once; if that one is unknown too, the job ends `dead` ("push not resent: …"; the dashboard shows
//   "Gave up" with that reason), so a member is never notified three times. It is not counted as
//   delivered (attribution and the grant a delivered message releases count confirmed deliveries).
// Until a check has answered, a free-days or DM job whose effect may have landed is never `dead` for
// want of attempts (decideAttempt): when DISPATCH_MAX_ATTEMPTS run out with the outcome unresolved
// (the last call timed out, or the checks met 429s and 5xx), the attempts after it only check, as many
// again, and end `sent` if Whop shows the effect, `dead` if it shows none. Every call that may act is
// made only while the job's lease is this dispatcher's (JobLedger.hold, just before the call).
// Known limit: a request still being processed when the retry checks (slower than the backoff) is
// not seen yet; the first backoff (30 s by default) is far longer than Whop's answers take.
import { hex, sha256Bytes } from "../_shared/crypto/primitives.ts";
import type { Sql } from "../_shared/db.ts";
import { log } from "../_shared/log.ts";
import {
  outcomeUnknown,
  type WhopCallOutcome,
  type WhopClient,
  type WhopFailure,
  type WhopListedMessage,
} from "../_shared/whop/client.ts";
import { permanent } from "../_shared/whop/client_outcome.ts";
import { decide, type JobDecision, type RetryPolicy } from "./retry_policy.ts";

/** What the free-days check compares: the membership as read before the first grant. */
export interface FreeDaysObservation {
  /** Our wall-clock time of the read. */
  read_at: string;
  days: number;
  renewal_period_end: string | null;
  expires_at: string | null;
  status: string | null;
}

/** What the DM check looks for in the channel. */
export interface DmObservation {
  channel_id: string;
  /** Our wall-clock time just before the first POST /messages of the job. */
  first_sent_at: string;
  /** SHA-256 (hex) of each content sent, one per attempt that reached POST /messages. */
  content_sha256: string[];
}

export interface Observed {
  free_days?: FreeDaysObservation;
  dm?: DmObservation;
  /** Set when a check found that an earlier attempt had taken effect. */
  confirmed?: { at: string; by: "membership" | "channel"; message_id?: string };
}

export interface JobHistory {
  observed: Observed;
  /** Earlier attempts that may have reached Whop without a known outcome. */
  unknownAttempts: number;
}

/** Where observations are kept: the job's row, written only by the lease holder. */
export interface JobLedger {
  history(jobId: number): Promise<JobHistory>;
  /** False when this worker no longer holds the job's lease: then nothing may be called. */
  record(jobId: number, observed: Observed): Promise<boolean>;
  /** Renews the job's lease right before a call that may act, so the call fits in it; false when
   * the job is no longer this worker's (then nothing may be called). */
  hold(jobId: number): Promise<boolean>;
}

/** The part of a claimed job this module needs. */
export interface JobRef {
  job_id: number;
  /** This attempt's number (the claim counted it). */
  attempts: number;
}

export interface OnceOnlyOptions {
  /** DISPATCH_MAX_ATTEMPTS: the attempts after it only check whether an earlier one took effect. */
  maxAttempts: number;
  /** The real time (Whop's timestamps are real; a dispatch round's `now` may be a test's fixed clock). */
  wallClock?: () => Date;
}

/** Whop's clock and ours may differ a little; a message of ours is looked for from this much earlier. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** A moved period end counts from this much: timestamps may be re-serialised, free days are >= 1 day. */
export const MIN_PERIOD_SHIFT_MS = 3_600_000;
/** Pages of the channel read back (each up to MESSAGE_PAGE_SIZE) before giving up on looking. */
export const MAX_MESSAGE_PAGES = 4;

const SETTLED = Symbol("settled decision");
const UNRESOLVED = Symbol("unresolved outcome");
type Marked = WhopCallOutcome & { [SETTLED]?: JobDecision; [UNRESOLVED]?: true };

/** A decision the check already made (instead of the retry policy's), if any. */
export function settledDecision(outcome: WhopCallOutcome): JobDecision | null {
  return (outcome as Marked)[SETTLED] ?? null;
}

/** Whether Whop may have acted on this job and no check has said yes or no yet. */
export function outcomeUnresolved(outcome: WhopCallOutcome): boolean {
  return (outcome as Marked)[UNRESOLVED] === true;
}

function settle(outcome: WhopCallOutcome, decision: JobDecision): WhopCallOutcome {
  return Object.assign({ ...outcome }, { [SETTLED]: decision });
}

/** Marks a failure after which Whop may have acted and a later attempt can check (free days, DM). */
function unresolvedIf(condition: boolean, outcome: WhopCallOutcome): WhopCallOutcome {
  if (!condition || outcome.ok || outcome.kind === "permanent") return outcome;
  return Object.assign({ ...outcome }, { [UNRESOLVED]: true as const });
}

/**
 * What an attempt's outcome means for its job: the check's own decision, else the retry policy's,
 * except that an unresolved outcome is not `dead` when the attempts run out: the attempts after
 * DISPATCH_MAX_ATTEMPTS check at Whop (and call nothing), up to as many again; only if every one of
 * those checks fails too does the job end `dead`, saying it may have been delivered.
 */
export function decideAttempt(
  outcome: WhopCallOutcome,
  attempt: number,
  policy: RetryPolicy,
  now: Date,
  random?: () => number,
): JobDecision {
  const settled = settledDecision(outcome);
  if (settled) return settled;
  if (!outcomeUnresolved(outcome)) return decide(outcome, attempt, policy, now, random);
  const decision = decide(outcome, attempt, { ...policy, maxAttempts: 2 * policy.maxAttempts }, now, random);
  if (decision.outcome !== "dead") return decision;
  return { outcome: "dead", error: `outcome still unknown, it may have been delivered: ${decision.error}` };
}

export function sqlLedger(sql: Sql, worker: string, at: Date | null, leaseSeconds: number): JobLedger {
  return {
    async history(jobId) {
      const [row] = await sql<{ observed_before: Observed | null; unknown_attempts: number }[]>`
        select observed_before, unknown_attempts from private.job_attempt_history(${jobId})`;
      return { observed: row?.observed_before ?? {}, unknownAttempts: row?.unknown_attempts ?? 0 };
    },
    async record(jobId, observed) {
      const [{ recorded }] = await sql<{ recorded: boolean }[]>`
        select private.record_job_observation(${jobId}, ${worker}, ${JSON.stringify(observed)}::text::jsonb,
                                              coalesce(${at}::timestamptz, now())) as recorded`;
      return recorded;
    },
    async hold(jobId) {
      const held = await sql<{ id: string }[]>`
        select id from private.hold_job_leases(${worker}, array[${jobId}]::bigint[], ${leaseSeconds},
                                               coalesce(${at}::timestamptz, now())) as held (id)`;
      return held.length === 1;
    },
  };
}

/**
 * The Whop client for one claimed job: addFreeDays, sendDirectMessage and sendPushNotification
 * check Whop before repeating a call whose earlier outcome may have been unknown, and call only
 * while the job's lease holds; every other call is the client's own.
 */
export function onceOnlyClient(
  whop: WhopClient,
  job: JobRef,
  ledger: JobLedger,
  options: OnceOnlyOptions,
): WhopClient {
  const wallClock = options.wallClock ?? (() => new Date());
  // Past the attempts allowed, an attempt only finds out whether an earlier one took effect.
  const checkOnly = job.attempts > options.maxAttempts;
  const gaveUp = (what: string) =>
    `gave up after ${options.maxAttempts} attempts: ${what}, so none of them took effect`;
  let history: Promise<JobHistory> | null = null;
  // A first attempt has nothing behind it: no database read.
  const past = () =>
    history ??= job.attempts > 1 ? ledger.history(job.job_id) : Promise.resolve({
      observed: {},
      unknownAttempts: 0,
    });
  let observed: Observed | null = null;
  const current = async () => observed ?? (observed = { ...(await past()).observed });
  const record = async (change: Partial<Observed>) => {
    const next = { ...(await current()), ...change };
    if (!(await ledger.record(job.job_id, next))) return false;
    observed = next;
    return true;
  };
  const confirmed = async (by: "membership" | "channel", messageId?: string) => {
    log.info("an earlier attempt had taken effect at Whop; not calling again", {
      job_id: job.job_id,
      by,
    });
    const at = wallClock().toISOString();
    // Best effort: the job is recorded as sent either way.
    await record({ confirmed: messageId ? { at, by, message_id: messageId } : { at, by } });
  };

  async function addFreeDays(
    input: { membershipId: string; days: number },
    idempotencyKey: string,
  ): Promise<WhopCallOutcome> {
    const { unknownAttempts } = await past();
    const before = (await current()).free_days;
    const mayHaveLanded = before !== undefined && unknownAttempts > 0;
    const read = await whop.getMembership(input.membershipId);
    if (!read.ok) {
      return unresolvedIf(
        mayHaveLanded,
        notCalled(read, "could not read the membership before adding free days"),
      );
    }
    const seen = snapshot(read.body, input.days, wallClock());
    if (before) {
      const verdict = daysAdded(before, seen);
      if (verdict === "added") {
        await confirmed("membership");
        return read;
      }
      if (verdict === "unverifiable" && unknownAttempts > 0) {
        const message = "free days: an earlier grant's outcome is unknown and the membership shows no " +
          "period end or expiry to check it against; not granted again, so they are never given twice";
        return settle(permanent(read.status, "outcome_unknown", message, read.latencyMs), {
          outcome: "dead",
          error: message,
        });
      }
    }
    if (checkOnly) {
      return settle(read, { outcome: "dead", error: gaveUp("the membership shows no free days added") });
    }
    if (!(await ledger.hold(job.job_id))) return leaseLost(read.latencyMs);
    if (!before && !(await record({ free_days: seen }))) return leaseLost(read.latencyMs);
    const outcome = await whop.addFreeDays(input, idempotencyKey);
    return unresolvedIf(
      outcomeUnknown(outcome),
      { ...outcome, latencyMs: read.latencyMs + outcome.latencyMs } as WhopCallOutcome,
    );
  }

  async function sendDirectMessage(
    input: { userId: string; companyId?: string; content: string },
    idempotencyKey: string,
  ): Promise<WhopCallOutcome> {
    const pending = (await current()).dm;
    const mayHaveLanded = (pending?.content_sha256.length ?? 0) > 0 && (await past()).unknownAttempts > 0;
    // The channel first: until POST /messages is called nothing reaches the member, and Whop
    // answers an existing channel for the same participants, so opening it again is harmless.
    const channel = await whop.openDmChannel(
      { userId: input.userId, companyId: input.companyId },
      `${idempotencyKey}:channel`,
    );
    if (!channel.ok) return unresolvedIf(mayHaveLanded, channel);
    let latencyMs = channel.latencyMs;
    if (pending && pending.content_sha256.length > 0) {
      const found = await findOurMessage(whop, channel.channelId, pending);
      if ("kind" in found) {
        return unresolvedIf(
          mayHaveLanded,
          notCalled(found, "could not read the DM channel before sending again"),
        );
      }
      latencyMs += found.latencyMs;
      if (found.message) {
        await confirmed("channel", found.message.id);
        return { ok: true, status: 200, body: found.message, latencyMs };
      }
    }
    if (checkOnly) {
      return settle({ ...channel, latencyMs }, {
        outcome: "dead",
        error: gaveUp("the DM channel shows none of our messages"),
      });
    }
    const sha = sha256(input.content);
    const dm: DmObservation = {
      channel_id: channel.channelId,
      first_sent_at: pending?.first_sent_at ?? wallClock().toISOString(),
      content_sha256: [...new Set([...(pending?.content_sha256 ?? []), sha])],
    };
    if (!(await ledger.hold(job.job_id)) || !(await record({ dm }))) return leaseLost(latencyMs);
    const sent = await whop.sendMessage(
      { channelId: channel.channelId, content: input.content },
      `${idempotencyKey}:message`,
    );
    return unresolvedIf(
      outcomeUnknown(sent),
      { ...sent, latencyMs: latencyMs + sent.latencyMs } as WhopCallOutcome,
    );
  }

  async function sendPushNotification(
    input: Parameters<WhopClient["sendPushNotification"]>[0],
    idempotencyKey: string,
  ): Promise<WhopCallOutcome> {
    const { unknownAttempts } = await past();
    const giveUp = "push not resent: Whop twice gave no answer saying whether it was delivered " +
      "(it may have reached the member)";
    if (unknownAttempts >= 2) {
      return settle(permanent(0, "outcome_unknown", giveUp, 0), { outcome: "dead", error: giveUp });
    }
    if (!(await ledger.hold(job.job_id))) return leaseLost(0);
    const outcome = await whop.sendPushNotification(input, idempotencyKey);
    if (!outcome.ok && outcomeUnknown(outcome) && unknownAttempts >= 1) {
      return settle(outcome, { outcome: "dead", error: `${giveUp}: ${outcome.message}` });
    }
    return outcome;
  }

  return { ...whop, addFreeDays, sendDirectMessage, sendPushNotification };
}

/** A failed read before a mutation: nothing was called. A refusal stays what it is. */
function notCalled(read: WhopFailure, what: string): WhopCallOutcome {
  if (read.kind !== "transient") return read;
  return { ...read, message: `${what}; not called: ${read.message}`, notSent: true };
}

/** The job went to another dispatcher before the call: nothing called, nothing to record. */
function leaseLost(latencyMs: number): WhopCallOutcome {
  return settle({
    ok: false,
    kind: "transient",
    status: null,
    message: "the job's lease went to another dispatcher before the call; not called",
    latencyMs,
    notSent: true,
  }, { outcome: "lease_lost" });
}

export function snapshot(body: unknown, days: number, at: Date): FreeDaysObservation {
  const m = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : null);
  return {
    read_at: at.toISOString(),
    days,
    renewal_period_end: text(m.renewal_period_end),
    expires_at: text(m.expires_at),
    status: text(m.status),
  };
}

/**
 * Whether the membership shows the free days added since `before`: a period end or expiry that
 * moved later (or appeared), on either field. "unverifiable" when neither can be compared.
 */
export function daysAdded(
  before: FreeDaysObservation,
  now: FreeDaysObservation,
): "added" | "not_added" | "unverifiable" {
  let comparable = false;
  for (const field of ["renewal_period_end", "expires_at"] as const) {
    const was = parseTime(before[field]);
    const is = parseTime(now[field]);
    if (is === null) continue;
    if (was === null) {
      if (before[field] === null) return "added";
      continue;
    }
    comparable = true;
    if (is - was >= MIN_PERIOD_SHIFT_MS) return "added";
  }
  return comparable ? "not_added" : "unverifiable";
}

/** ISO 8601, or milliseconds/seconds since the epoch as digits (Whop uses both); null if neither. */
export function parseTime(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    return n < 1e12 ? n * 1000 : n;
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Looks through the channel's latest messages for one whose exact content we sent, created since
 * a little before the first send. Stops at the first page reaching back past that time.
 */
export async function findOurMessage(
  whop: WhopClient,
  channelId: string,
  dm: DmObservation,
): Promise<{ message: WhopListedMessage | null; latencyMs: number } | WhopFailure> {
  const since = (parseTime(dm.first_sent_at) ?? 0) - CLOCK_SKEW_MS;
  const ours = new Set(dm.content_sha256);
  let after: string | undefined;
  let latencyMs = 0;
  for (let page = 0; page < MAX_MESSAGE_PAGES; page++) {
    const listed = await whop.listMessages({ channelId, after });
    if (!listed.ok) return listed;
    latencyMs += listed.latencyMs;
    let reachedBack = false;
    for (const message of listed.messages) {
      const created = parseTime(message.created_at);
      if (created !== null && created < since) {
        reachedBack = true;
        continue;
      }
      if (message.content !== null && ours.has(sha256(message.content))) {
        return { message, latencyMs };
      }
    }
    if (reachedBack || listed.nextCursor === null) return { message: null, latencyMs };
    after = listed.nextCursor;
  }
  return {
    ok: false,
    kind: "transient",
    status: null,
    message: `the DM channel holds more than ${MAX_MESSAGE_PAGES} pages of messages since the first send`,
    latencyMs,
    notSent: true,
  };
}

function sha256(text: string): string {
  return hex(sha256Bytes(text));
}
