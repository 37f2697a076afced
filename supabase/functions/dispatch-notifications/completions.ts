// A claim's job outcomes, written in batches (public.complete_jobs, 20261203002100): the first
// outcome is written at once, and the ones that arrive while a write is under way go together in
// the next, so the database sees one statement (one commit) per chunk of finished jobs rather than
// one per job, and no outcome waits longer than one write for its turn. (A timed batching window
// would save more statements but leave sent jobs unrecorded longer: a dispatcher that dies in that
// window has its pushes resent once by the unknown-outcome rules.)
import type { Sql } from "../_shared/db.ts";

export interface JobOutcome {
  job_id: number;
  outcome: "sent" | "retry" | "failed" | "dead" | "skipped" | "deferred";
  http_status: number | null;
  latency_ms: number | null;
  error: string | null;
  retry_at: Date | null;
}

/** The most outcomes one statement writes. */
export const MAX_OUTCOMES_PER_WRITE = 500;

export interface CompletionWriter {
  /** Records the outcome; false when the database refused it (the job is someone else's now). */
  complete(outcome: JobOutcome): Promise<boolean>;
}

export function completionWriter(sql: Sql, holder: string, at: Date | null): CompletionWriter {
  let waiting: {
    outcome: JobOutcome;
    settle: (recorded: boolean) => void;
    fail: (error: unknown) => void;
  }[] = [];
  let writing = false;

  async function drain() {
    writing = true;
    try {
      while (waiting.length > 0) {
        const chunk = waiting.slice(0, MAX_OUTCOMES_PER_WRITE);
        waiting = waiting.slice(chunk.length);
        try {
          const rows = await sql<{ id: string }[]>`
            select id from public.complete_jobs(${holder}, ${
            JSON.stringify(chunk.map((w) => w.outcome))
          }::text::jsonb,
                                                coalesce(${at}::timestamptz, now())) as recorded (id)`;
          const recorded = new Set(rows.map((row) => Number(row.id)));
          for (const w of chunk) w.settle(recorded.has(w.outcome.job_id));
        } catch (error) {
          for (const w of chunk) w.fail(error);
        }
      }
    } finally {
      writing = false;
    }
  }

  return {
    complete(outcome) {
      return new Promise<boolean>((settle, fail) => {
        waiting.push({ outcome, settle, fail });
        // Outcomes that arrive in the same turn of the event loop join the first write.
        if (!writing) {
          writing = true;
          queueMicrotask(() => void drain());
        }
      });
    },
  };
}
