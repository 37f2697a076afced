// A claimed batch keeps its jobs' leases while it works: every third of DISPATCH_LEASE_SECONDS the
// leases of its unfinished jobs are extended (private.hold_job_leases), so a batch slower than its
// lease (a slow Whop) is never claimed again by another dispatcher while this one still sends it.
// A job the extension no longer returns was claimed by someone else (this dispatcher stalled past
// its lease): it is not started here. A call that may act also renews its own job's lease just
// before it is made (JobLedger.hold in unknown_outcome.ts), which is what guarantees that no two
// dispatchers call for the same job: the heartbeat only keeps waiting jobs from being taken.
// That renewal is skipped when this batch already knows the lease has long enough to run
// (heldFor): the database set it to expire a lease after its claim or extension began, and no other
// dispatcher can claim a job before its lease expires, so measured from just before that statement
// was sent (our monotonic clock), the lease surely lasts that long. Only on the database's clock:
// with a fixed clock (local tests) every call renews.
import type { Sql } from "../_shared/db.ts";
import { log } from "../_shared/log.ts";

export interface BatchLeases {
  /** False once the job was found to be another dispatcher's: it must not be started. */
  held(jobId: number): boolean;
  /** True when the job's lease is known to be this claim's for at least `ms` more. */
  heldFor(jobId: number, ms: number): boolean;
  /** The job's lease was extended by a statement sent at `sentAt` (performance.now()). */
  renewed(jobId: number, sentAt: number): void;
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
  /** performance.now() just before the claim statement was sent. */
  claimSentAt: number,
): BatchLeases {
  const unfinished = new Set(jobIds);
  const lost = new Set<number>();
  const leaseMs = leaseSeconds * 1000;
  // Until when (performance.now()) each job's lease surely lasts; none on a fixed clock.
  const heldUntil = new Map<number, number>(
    at === null ? jobIds.map((id) => [id, claimSentAt + leaseMs]) : [],
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  let beating: Promise<void> | null = null;
  let stopped = false;

  const beat = async () => {
    const ids = [...unfinished];
    if (ids.length > 0) {
      try {
        const sentAt = performance.now();
        const rows = await sql<{ id: string }[]>`
          select id from private.hold_job_leases(${holder}, ${ids}::bigint[], ${leaseSeconds},
                                                 coalesce(${at}::timestamptz, now())) as held (id)`;
        const kept = new Set(rows.map((row) => Number(row.id)));
        if (at === null) {
          for (const id of kept) if (unfinished.has(id)) heldUntil.set(id, sentAt + leaseMs);
        }
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
    heldFor: (jobId, ms) => !lost.has(jobId) && (heldUntil.get(jobId) ?? -Infinity) - performance.now() >= ms,
    renewed: (jobId, sentAt) => {
      if (at === null) heldUntil.set(jobId, Math.max(heldUntil.get(jobId) ?? -Infinity, sentAt + leaseMs));
    },
    done: (jobId) => {
      unfinished.delete(jobId);
      heldUntil.delete(jobId);
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await beating;
    },
  };
}
