// What protects and describes the webhook endpoint without ever refusing a delivery that verifies
// (ARCHITECTURE section 7; Whop gives up after 3 retries, so a 429 to a genuine delivery risks
// losing it). The signature is checked first, on every request: it is one HMAC over the raw body.
// - Only requests that FAIL verification are limited, per source address (client_address.ts), in
//   this process's memory: no database work per forged request, and a fixed number of tracked
//   sources whatever addresses a flood claims.
// - Rejections are counted by reason in memory and written in batches (at most one write in flight,
//   about one a second), so a flood adds no per-request database write and no row per address.
//   Duplicates (redeliveries of stored events) are counted the same way: one per-minute row that
//   every duplicate updated serialised them (issue 12).
// Fairness between companies is not decided here: a signed event is always stored; processing and
// dispatch are where one company's burst must not delay the others.
import type { Sql } from "../_shared/db.ts";
import { HttpError } from "../_shared/http.ts";
import { log } from "../_shared/log.ts";
import { withTimeout } from "../_shared/timeout.ts";
import type { SignatureFailure } from "../_shared/whop/verify_signature.ts";

export type RejectionReason =
  | "payload_too_large"
  | SignatureFailure
  | "malformed_json"
  | "invalid_envelope";

/** A refused webhook: answered with its HTTP status and counted under its reason. The answer's code
 * is the reason, except for 429, which says "rate_limited" and is counted as the signature failure
 * it was (the ops signature-failure rate keeps seeing it). */
export class Rejection extends HttpError {
  readonly reason: RejectionReason;

  constructor(
    status: 400 | 401 | 413 | 429,
    reason: RejectionReason,
    message: string,
    headers: Record<string, string> = {},
    code: string = reason,
  ) {
    // A refusal is an answer, not a bug: nothing reads its stack, and capturing one costs more than
    // the rest of refusing a forged request (a flood makes thousands a second).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(status, code, message, headers);
    Error.stackTraceLimit = stackTraceLimit;
    this.reason = reason;
  }
}

export const FAILURE_WINDOW_MS = 60_000;
/** WEBHOOK_FAILED_VERIFICATIONS_PER_IP when unset. Whop's own deliveries do not fail (unless the
 * secret is wrong, when 401 or 429 makes no difference to its retries). */
export const DEFAULT_FAILED_VERIFICATIONS_PER_MINUTE = 300;
/** Sources tracked per window; later ones in the same window share one overflow bucket. */
export const MAX_TRACKED_SOURCES = 4096;
const OVERFLOW_SOURCE = "*overflow*";

/** Fixed one-minute windows of failed verifications per source, bounded in memory: at most
 * `maxSources` keys (plus the overflow bucket) at any time. */
export class FailedVerificationLimiter {
  #counts = new Map<string, number>();
  #windowStart = Number.NEGATIVE_INFINITY;

  constructor(
    readonly limitPerWindow: number,
    readonly maxSources = MAX_TRACKED_SOURCES,
    readonly windowMs = FAILURE_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one failed verification from `source`; true when the source is now over its limit. */
  recordFailure(source: string): boolean {
    const now = this.now();
    if (now - this.#windowStart >= this.windowMs) {
      this.#windowStart = now - (now % this.windowMs);
      this.#counts.clear();
    }
    const key = this.#counts.has(source) || this.#counts.size < this.maxSources ? source : OVERFLOW_SOURCE;
    const count = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, count);
    return count > this.limitPerWindow;
  }

  /** Keys held now (tests show the bound). */
  get trackedSources(): number {
    return this.#counts.size;
  }
}

/** Counts by key, added up in memory and written with one call per flush. Counts that could not be
 * written (database down) are kept for the next flush: at most one number per key. */
export class BatchedCounts<K extends string> {
  #pending = new Map<K, number>();
  #flushing: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastFlushAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly write: (counts: Record<string, number>) => Promise<void>,
    readonly intervalMs = 1000,
    private readonly what = "counts",
  ) {}

  add(key: K) {
    this.#pending.set(key, (this.#pending.get(key) ?? 0) + 1);
    this.#schedule();
  }

  /** Writes what is pending now (and waits for a write in flight). */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#flushing) await this.#flushing;
    if (this.#pending.size === 0) return;
    const counts = Object.fromEntries(this.#pending);
    this.#pending.clear();
    this.#lastFlushAt = Date.now();
    this.#flushing = this.write(counts).catch((error) => {
      for (const [key, n] of Object.entries(counts) as [K, number][]) {
        this.#pending.set(key, (this.#pending.get(key) ?? 0) + n);
      }
      log.warn(`webhook ${this.what} not written; kept for the next try`, { error });
    }).finally(() => {
      this.#flushing = null;
      if (this.#pending.size > 0) this.#schedule();
    });
    await this.#flushing;
  }

  // The first rejection after a quiet second is written at once; during a flood, one write per
  // interval carries everything counted meanwhile.
  #schedule() {
    if (this.#timer !== undefined || this.#flushing) return;
    const wait = Math.max(0, this.#lastFlushAt + this.intervalMs - Date.now());
    const timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, wait);
    // A pending count must not keep a process alive that is otherwise done (tests, shutdown).
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }
}

/** Rejection counts by reason (private.record_webhook_rejections). */
export class RejectionTally extends BatchedCounts<RejectionReason> {
  constructor(write: (counts: Record<string, number>) => Promise<void>, intervalMs = 1000) {
    super(write, intervalMs, "rejection counts");
  }
}

export interface GuardOptions {
  failedVerificationsPerMinute: number;
}

export function createGuards(sql: Sql, options: GuardOptions) {
  const limiter = new FailedVerificationLimiter(options.failedVerificationsPerMinute);
  const tally = new RejectionTally(async (counts) => {
    await withTimeout(
      sql`select private.record_webhook_rejections(${sql.json(counts)})`,
      2000,
      "rejection counts",
    );
  });

  // Redeliveries answered 200 "duplicate" (private.record_webhook_duplicates).
  const duplicates = new BatchedCounts<"duplicate">(
    async (counts) => {
      await withTimeout(
        sql`select private.record_webhook_duplicates(${counts.duplicate ?? 0}::bigint)`,
        2000,
        "duplicate counts",
      );
    },
    1000,
    "duplicate counts",
  );

  return {
    /** The answer to a request whose signature did not verify: 401, or 429 once its source has failed
     * more than the limit within the minute. */
    failedVerification(source: string, reason: SignatureFailure, message: string): Rejection {
      if (!limiter.recordFailure(source)) return new Rejection(401, reason, message);
      return new Rejection(
        429,
        reason,
        "Too many requests from this address failed the signature check; retry after a minute.",
        { "retry-after": String(FAILURE_WINDOW_MS / 1000) },
        "rate_limited",
      );
    },
    /** Counts a rejection by reason; never delays or fails the request it describes. */
    countRejection(reason: RejectionReason) {
      tally.add(reason);
    },
    /** Counts a redelivery of a stored event; never delays the answer. */
    countDuplicate() {
      duplicates.add("duplicate");
    },
    /** Writes the counts still pending (on shutdown). */
    flush: () => Promise.all([tally.flush(), duplicates.flush()]).then(() => {}),
  };
}
