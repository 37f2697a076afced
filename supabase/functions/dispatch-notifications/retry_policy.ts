// What a delivery attempt's outcome means for its job (ARCHITECTURE section 5, Dispatch): sent;
// 429 → again after the advised delay; 5xx / timeout → exponential backoff with jitter, a bounded
// number of attempts, then dead; any other 4xx → failed, no retry.
import type { WhopCallOutcome } from "../_shared/whop/client.ts";

export interface RetryPolicy {
  /** Attempts before a job that keeps failing transiently is dead. */
  maxAttempts: number;
  /** First backoff; attempt n waits baseSeconds * 2^(n-1), with jitter down to half of that. */
  baseSeconds: number;
  /** Longest backoff. */
  maxBackoffSeconds: number;
}

export type JobDecision =
  | { outcome: "sent" }
  | { outcome: "retry"; retryAt: Date; error: string }
  | { outcome: "failed" | "dead"; error: string }
  // Nothing was called: the job is no longer this dispatcher's (its lease went to another).
  | { outcome: "lease_lost" };

export function backoffSeconds(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxBackoffSeconds, policy.baseSeconds * 2 ** Math.max(0, attempt - 1));
  // "Equal jitter": between half and all of the ceiling, so retries spread out but never bunch at 0.
  return ceiling / 2 + random() * (ceiling / 2);
}

export function decide(
  outcome: WhopCallOutcome,
  attempt: number,
  policy: RetryPolicy,
  now: Date,
  random: () => number = Math.random,
): JobDecision {
  if (outcome.ok) return { outcome: "sent" };
  const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);
  switch (outcome.kind) {
    case "rate_limited":
      if (attempt >= policy.maxAttempts) {
        return { outcome: "dead", error: `rate limited ${attempt} times: ${outcome.message}` };
      }
      return { outcome: "retry", retryAt: at(outcome.retryAfterSeconds), error: `429: ${outcome.message}` };
    case "transient":
      if (attempt >= policy.maxAttempts) {
        return { outcome: "dead", error: `gave up after ${attempt} attempts: ${outcome.message}` };
      }
      return {
        outcome: "retry",
        retryAt: at(backoffSeconds(policy, attempt, random)),
        error: outcome.message,
      };
    case "permanent":
      return { outcome: "failed", error: `${outcome.status}: ${outcome.message}` };
  }
}
