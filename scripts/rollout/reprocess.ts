// Processes stored, unprocessed webhook events (those that arrived while processing was off or
// ROLLBACK_MODE was on) in event-time order, a batch of memberships at a time. Safe to run again:
// replaying a membership is idempotent. Used by `deno task reprocess`, `deno task rollout
// reprocess` and `deno task rollout resume`.
import { CliError, type Sql } from "../lib/database.ts";

export interface ReprocessTotals {
  memberships: number;
  events: number;
  /** Memberships left alone because processing is off for their company. */
  skipped: number;
  rounds: number;
  seconds: number;
}

/** `--since`: an ISO 8601 time, or "all" (null: from the beginning). */
export function parseReprocessSince(value: string | undefined): string | null {
  if (value === undefined) throw new CliError('--since is required (an ISO 8601 time, or "all").', 2);
  if (value === "all") return null;
  if (Number.isNaN(Date.parse(value))) {
    throw new CliError(
      `--since "${value}" is not a time; give an ISO 8601 time such as 2026-11-01T00:00:00Z, or "all".`,
      2,
    );
  }
  return value;
}

export function parseBatch(value: string | undefined): number {
  const batch = value === undefined ? 200 : Number(value);
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) {
    throw new CliError("--batch must be a whole number from 1 to 10000.", 2);
  }
  return batch;
}

export async function reprocessEvents(
  sql: Sql,
  since: string | null,
  batch: number,
  progress: (line: string) => void = console.log,
): Promise<ReprocessTotals> {
  const totals = { memberships: 0, events: 0, skipped: 0, rounds: 0, seconds: 0 };
  const started = performance.now();
  for (;;) {
    const [{ result }] = await sql<
      { result: { memberships: number; events: number; skipped_memberships: number; remaining: number } }[]
    >`select public.process_pending_events(coalesce(${since}::timestamptz, '-infinity'), ${batch}) as result`;
    totals.rounds++;
    totals.memberships += result.memberships;
    totals.events += result.events;
    totals.skipped = result.skipped_memberships;
    progress(
      `round ${totals.rounds}: ${result.memberships} memberships, ${result.events} events processed; ${result.remaining} waiting`,
    );
    // Done, or only companies for which processing is off are left.
    if (result.remaining === 0 || result.memberships === 0) break;
  }
  totals.seconds = (performance.now() - started) / 1000;
  return totals;
}

export function reprocessSummary(totals: ReprocessTotals): string {
  return `summary: ${totals.events} events of ${totals.memberships} memberships processed in ${totals.rounds} rounds ` +
    `(${totals.seconds.toFixed(1)} s)` +
    (totals.skipped
      ? `; ${totals.skipped} memberships skipped because processing is off for their company`
      : "");
}
