// The rollout plan's load test (phase 3.2, "simulate peak webhook traffic, verify rate limiting"):
// signed synthetic v1 webhooks for a synthetic company, sent to a webhook function URL open loop at a
// given rate for a given time, optionally beside forged (unsigned-secret) requests that the failure
// limit must refuse. The synthetic company is created first with its nudges paused, so the cases its
// failures open are never nudged, and it is deleted afterwards with everything stored for it.
import { paymentEvent } from "../../whop-sandbox/payloads.ts";
import { signStandardWebhook } from "../../supabase/functions/_shared/whop/webhook_signature.ts";
import { CliError, type Sql } from "../lib/database.ts";
import { paced, type PacedResult, percentile, type Sample } from "../lib/paced_load.ts";
import { formatTable } from "../lib/table.ts";

/** Synthetic companies are recognisable by their prefix, and cleaned up by it if a run was killed. */
export const LOAD_TEST_COMPANY_PREFIX = "biz_loadtest";
const UNITS: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600 };
export const LOAD_TEST_EVENTS = ["payment.failed", "payment.succeeded"] as const;
export type LoadTestEvent = typeof LOAD_TEST_EVENTS[number];
/** More than this many webhooks a second is beyond what one CLI process can sign and send honestly. */
const MAX_RATE_PER_SECOND = 2_000;

/** "50/s", "300/h", "20/min" → webhooks per second. */
export function parseRate(value: string, option = "--rate"): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|sec|m|min|h|hr)\s*$/.exec(value);
  const perSecond = match ? Number(match[1]) / UNITS[match[2]] : Number.NaN;
  if (!(perSecond > 0)) {
    throw new CliError(
      `${option} "${value}" is not a rate: give a number per s, min or h (e.g. 50/s, 300/h).`,
      2,
    );
  }
  if (perSecond > MAX_RATE_PER_SECOND) {
    throw new CliError(
      `${option} "${value}" is above ${MAX_RATE_PER_SECOND}/s; run several load tests instead.`,
      2,
    );
  }
  return perSecond;
}

export interface LoadTestPlan {
  url: string;
  secret: string;
  ratePerSecond: number;
  durationSeconds: number;
  forgedPerSecond: number;
  maxInFlight: number;
  event: LoadTestEvent;
  companyId: string;
}

export interface LoadTestReport {
  companyId: string;
  signed: PacedResult;
  forged: PacedResult | null;
  stored: number;
  /** Rows left for the company after the clean-up (0 when it worked; null when kept). */
  leftAfterCleanup: number | null;
}

export function syntheticCompanyId(): string {
  return `${LOAD_TEST_COMPANY_PREFIX}${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** The company exists before its first webhook, with nudges paused: nothing is ever sent for it. */
export async function createSyntheticCompany(sql: Sql, companyId: string) {
  await sql`
    with company as (
      insert into public.companies (company_id, title) values (${companyId}, 'Churn Saver load test')
      returning company_id)
    insert into public.company_settings (company_id, nudges_paused) select company_id, true from company`;
}

/** Deletes the synthetic company and, by its foreign keys, every row stored for it. */
export async function removeSyntheticCompany(sql: Sql, companyId: string): Promise<number> {
  if (!companyId.startsWith(LOAD_TEST_COMPANY_PREFIX)) {
    throw new CliError(
      `refusing to delete ${companyId}: not a load-test company (${LOAD_TEST_COMPANY_PREFIX}...).`,
    );
  }
  await sql`delete from public.companies where company_id = ${companyId}`;
  const [{ left }] = await sql<{ left: number }[]>`
    select (select count(*) from public.events where company_id = ${companyId})
         + (select count(*) from public.recovery_cases where company_id = ${companyId})
         + (select count(*) from public.job_queue where company_id = ${companyId})
         + (select count(*) from public.members where company_id = ${companyId})
         + (select count(*) from public.companies where company_id = ${companyId}) as left`;
  return Number(left);
}

export async function storedEvents(sql: Sql, companyId: string): Promise<number> {
  const [{ n }] = await sql<{ n: number }[]>`
    select count(*)::int as n from public.events where company_id = ${companyId}`;
  return n;
}

async function signedRequest(plan: LoadTestPlan, index: number, runTag: string): Promise<RequestInit> {
  const event = paymentEvent(plan.event, {
    companyId: plan.companyId,
    membershipId: `mem_${runTag}${index}`,
    userId: `user_${runTag}${index}`,
    amount: 19.99,
  });
  const body = JSON.stringify(event);
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": event.id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": await signStandardWebhook({ secret: plan.secret, id: event.id, timestamp, body }),
    },
    body,
  };
}

/** A request as a forger would send it: a well-formed signature made with a secret that is not ours. */
function forgedRequest(plan: LoadTestPlan, index: number): RequestInit {
  const id = `msg_forged${index}`;
  return {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
      "webhook-signature": `v1,${btoa("not the secret".padEnd(32, "x"))}`,
    },
    body: JSON.stringify(paymentEvent("payment.failed", { companyId: plan.companyId, eventId: id })),
  };
}

export interface Progress {
  signed: Sample[];
  forged: Sample[];
}

/** Sends the plan's webhooks; `onProgress` is called about every `progressMs` while it runs. */
export async function sendLoad(
  plan: LoadTestPlan,
  signal: AbortSignal,
  onProgress: (progress: Progress, elapsedMs: number) => void,
  // Every 5 s; a short run every tenth of its duration, at least every second.
  progressMs = Math.min(5_000, Math.max(1_000, (plan.durationSeconds * 1000) / 10)),
): Promise<{ signed: PacedResult; forged: PacedResult | null }> {
  const progress: Progress = { signed: [], forged: [] };
  const runTag = crypto.randomUUID().slice(0, 8);
  const count = Math.max(1, Math.round(plan.ratePerSecond * plan.durationSeconds));
  const forgedCount = Math.round(plan.forgedPerSecond * plan.durationSeconds);
  const started = performance.now();
  const ticker = setInterval(() => onProgress(progress, performance.now() - started), progressMs);
  try {
    const [signed, forged] = await Promise.all([
      paced(
        count,
        plan.ratePerSecond,
        plan.maxInFlight,
        async (i) => fetch(plan.url, await signedRequest(plan, i, runTag)),
        { signal, onAnswer: (sample) => progress.signed.push(sample) },
      ),
      forgedCount > 0
        ? paced(
          forgedCount,
          plan.forgedPerSecond,
          plan.maxInFlight,
          (i) => fetch(plan.url, forgedRequest(plan, i)),
          { signal, onAnswer: (sample) => progress.forged.push(sample) },
        )
        : Promise.resolve(null),
    ]);
    return { signed, forged };
  } finally {
    clearInterval(ticker);
  }
}

const ms = (value: number) => Number.isNaN(value) ? "-" : `${value.toFixed(1)} ms`;
const statusList = (statuses: Map<number, number>) =>
  [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status === 0 ? "no answer" : status}: ${n}`)
    .join(", ") || "-";

export function progressLine(progress: Progress, elapsedMs: number, plan: LoadTestPlan): string {
  const total = Math.round(plan.ratePerSecond * plan.durationSeconds);
  const ok = progress.signed.filter((s) => s.status === 200).length;
  const limited = progress.signed.filter((s) => s.status === 429).length;
  const latencies = progress.signed.map((s) => s.latencyMs);
  return `${(elapsedMs / 1000).toFixed(0).padStart(4)} s  ${progress.signed.length}/${total} answered` +
    `  200: ${ok}  429: ${limited}  other: ${progress.signed.length - ok - limited}` +
    `  p50 ${ms(percentile(latencies, 50))}  p99 ${ms(percentile(latencies, 99))}` +
    (plan.forgedPerSecond > 0 ? `  forged answered: ${progress.forged.length}` : "");
}

export interface Verdict {
  passed: boolean;
  /** Why not, one line each. */
  problems: string[];
  rateLimitingHeld: boolean;
}

/** Signed deliveries are never rate-limited and are all stored; forged ones are refused (401, then
 * 429 once their source passed the failure limit) and none is stored. */
export function judge(report: LoadTestReport): Verdict {
  const problems: string[] = [];
  const answered = report.signed.samples.length;
  const ok = report.signed.statuses.get(200) ?? 0;
  const limited = report.signed.statuses.get(429) ?? 0;
  if (ok < answered) problems.push(`${answered - ok} of ${answered} signed webhooks were not answered 200`);
  if (limited > 0) {
    problems.push(`${limited} signed webhooks were refused 429 (genuine deliveries must never be)`);
  }
  if (report.stored !== ok) problems.push(`${report.stored} events stored for ${ok} answered 200`);
  let forgedHeld = true;
  if (report.forged) {
    const refused = (report.forged.statuses.get(401) ?? 0) + (report.forged.statuses.get(429) ?? 0);
    if (refused < report.forged.samples.length) {
      forgedHeld = false;
      problems.push(`${report.forged.samples.length - refused} forged requests were not refused 401/429`);
    }
  }
  if (report.leftAfterCleanup) problems.push(`${report.leftAfterCleanup} rows of ${report.companyId} left`);
  return { passed: problems.length === 0, problems, rateLimitingHeld: limited === 0 && forgedHeld };
}

export function summaryTable(report: LoadTestReport): string {
  const row = (what: string, result: PacedResult) => {
    const latencies = result.samples.map((s) => s.latencyMs);
    const seconds = result.elapsedMs / 1000;
    return [
      what,
      result.samples.length,
      Number((result.samples.length / seconds).toFixed(1)),
      `${((100 * (result.statuses.get(200) ?? 0)) / Math.max(1, result.samples.length)).toFixed(1)}%`,
      result.statuses.get(429) ?? 0,
      ms(percentile(latencies, 50)),
      ms(percentile(latencies, 95)),
      ms(percentile(latencies, 99)),
      statusList(result.statuses),
    ];
  };
  return formatTable(
    ["requests", "answered", "per s", "200", "429", "p50", "p95", "p99", "statuses"],
    [row("signed", report.signed), ...(report.forged ? [row("forged", report.forged)] : [])],
  );
}
