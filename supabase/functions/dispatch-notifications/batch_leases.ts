// A claimed batch keeps its jobs' leases while it works: every third of DISPATCH_LEASE_SECONDS the
// leases of its unfinished jobs are extended (private.hold_job_leases), so a batch slower than its
// lease (a slow Whop) is never claimed again by another dispatcher while this one still sends it.
// A job the extension no longer returns was claimed by someone else (this dispatcher stalled past
// its lease): it is not started here. A call that may act also renews its own job's lease just
// before it is made (JobLedger.hold in unknown_outcome.ts), which is what guarantees that no two
// dispatchers call for the same job: the heartbeat only keeps waiting jobs from being taken.
import type { Sql } from "../_shared/db.ts";
import { log } from "../_shared/log.ts";

export interface BatchLeases {
  /** False once the job was found to be another dispatcher's: it must not be started. */
  held(jobId: number): boolean;
  /** The job is finished here (recorded, deferred or handed back): its lease is no longer kept. */
  done(jobId: number): void;
  /** Stops the heartbeat; resolves once an extension under way has ended. */
  stop(): Promise<void>;
}

export function keepLeases(
  sql: Sql,
  holder: string,
  jobIds: readonly number[],
  leaseSeconds: number,
  at: Date | null,
): BatchLeases {
  const unfinished = new Set(jobIds);
  const lost = new Set<number>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let beating: Promise<void> | null = null;
  let stopped = false;

  const beat = async () => {
    const ids = [...unfinished];
    if (ids.length > 0) {
      try {
        const rows = await sql<{ id: string }[]>`
          select id from private.hold_job_leases(${holder}, ${ids}::bigint[], ${leaseSeconds},
                                                 coalesce(${at}::timestamptz, now())) as held (id)`;
        const kept = new Set(rows.map((row) => Number(row.id)));
        const taken = ids.filter((id) => !kept.has(id) && unfinished.has(id));
        for (const id of taken) lost.add(id);
        if (taken.length > 0) {
          log.warn("jobs of this batch were claimed by another dispatcher; not sending them", {
            holder,
            jobs: taken.length,
          });
        }
      } catch (error) {
        // The next beat tries again; a call that may act renews its own lease first anyway.
        log.warn("could not extend the batch's leases", { holder, error });
      }
    }
    schedule();
  };
  const schedule = () => {
    if (!stopped) timer = setTimeout(() => beating = beat(), (leaseSeconds * 1000) / 3);
  };
  schedule();

  return {
    held: (jobId) => !lost.has(jobId),
    done: (jobId) => void unfinished.delete(jobId),
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await beating;
    },
  };
}
