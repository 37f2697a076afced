// Four dispatchers at once over 10,000 due jobs: the sandbox's call log shows every job sent
// exactly once, and none is left claimed. A dispatcher that dies mid-batch loses its jobs only
// until the lease runs out; the incentive is never applied twice for one case. Both run with the
// sandbox honouring Idempotency-Key and ignoring it (as Whop may): exactly once may not rest on it.
import assert from "node:assert/strict";
import { connectAsOwner, stack, stackVar } from "../support/stack.ts";
import {
  IDEMPOTENCY_MODES,
  isolateQueue,
  makeDueJobs,
  sandbox,
  withDispatchApp,
  withIdempotencyMode,
} from "../support/dispatch.ts";
import { setFlags, uniqueCompany } from "../support/webhooks.ts";
import { createWhopClient } from "../../supabase/functions/_shared/whop/client.ts";
import {
  onceOnlyClient,
  sqlLedger,
} from "../../supabase/functions/dispatch-notifications/unknown_outcome.ts";

for (const mode of IDEMPOTENCY_MODES) {
  Deno.test(`four concurrent dispatchers send 10,000 jobs exactly once (Idempotency-Key ${mode})`, () =>
    withIdempotencyMode(mode, fourDispatchers));
  Deno.test(`a dispatcher killed mid-batch: its jobs go out after the lease; the incentive is applied once (Idempotency-Key ${mode})`, () =>
    withIdempotencyMode(mode, killedMidBatch));
}

async function fourDispatchers() {
  const sql = connectAsOwner();
  try {
    await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
    const companyId = uniqueCompany("load");
    await isolateQueue(sql, companyId);
    const due = new Date(Date.now() - 60_000);
    const jobIds = await makeDueJobs(sql, companyId, "push", 10_000, due);
    const before = (await sandbox.calls()).at(-1)?.seq ?? 0;

    const started = performance.now();
    const dispatcher = () =>
      withDispatchApp(async (dispatch) => {
        // Each round is bounded; a dispatcher keeps going until nothing is due.
        for (let round = 0; round < 100; round++) {
          const counts = await dispatch();
          if (counts.claimed === 0) break;
        }
      }, { DISPATCH_BATCH_SIZE: "200", DISPATCH_CONCURRENCY: "8", DISPATCH_MAX_SECONDS: "20" });
    await Promise.all([dispatcher(), dispatcher(), dispatcher(), dispatcher()]);
    const seconds = (performance.now() - started) / 1000;

    const calls = (await sandbox.calls("/api/v1/notifications")).filter((call) => call.seq > before);
    const perJob = new Map<string, number>();
    for (const call of calls) {
      const key = String(call.idempotency_key);
      perJob.set(key, (perJob.get(key) ?? 0) + 1);
    }
    assert.equal(calls.length, 10_000, "10,000 calls reached Whop");
    assert.equal(perJob.size, 10_000, "one per job");
    assert.deepEqual(new Set(perJob.values()), new Set([1]), "no job was sent twice");
    assert.ok(jobIds.every((id) => perJob.has(`job:${id}`)), "every job was sent");

    const states =
      await sql`select status, count(*)::int as n from public.job_queue where company_id = ${companyId} group by status`;
    assert.deepEqual(
      states.map((row) => `${row.status}:${row.n}`),
      ["sent:10000"],
      "all sent, none left claimed",
    );
    console.log(
      `10,000 jobs by 4 dispatchers in ${seconds.toFixed(1)} s (${Math.round(10_000 / seconds)} jobs/s)`,
    );
  } finally {
    await sql.end();
  }
}

async function killedMidBatch() {
  const sql = connectAsOwner();
  try {
    await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
    const companyId = uniqueCompany("crash");
    await isolateQueue(sql, companyId);
    const t0 = new Date(Date.now() + 3 * 3600_000);
    const [incentiveJob] = await makeDueJobs(sql, companyId, "incentive", 1, t0);
    await sql`update public.company_settings set incentive_free_days = 3 where company_id = ${companyId}`;
    const [job] = await sql`select j.case_id, rc.membership_id from public.job_queue j
                            join public.recovery_cases rc on rc.id = j.case_id where j.id = ${incentiveJob}`;
    await sandbox.fixtures({
      memberships: [{ id: job.membership_id, company_id: companyId, status: "past_due" }],
    });
    const periodEnd = Date.parse((await sandbox.membership(job.membership_id)).renewal_period_end);

    // The doomed dispatcher claims the job and even reaches Whop (as the dispatcher does: the
    // membership read and noted first), then dies before recording the outcome.
    const [claimed] = await sql`select * from public.claim_due_jobs('doomed', 10, 60, ${t0})`;
    assert.equal(Number(claimed.job_id), incentiveJob);
    const whop = onceOnlyClient(
      createWhopClient({ baseUrl: `${stack.sandboxUrl}/api/v1`, apiKey: stackVar("WHOP_API_KEY") }),
      { job_id: incentiveJob, attempts: Number(claimed.attempts) },
      sqlLedger(sql, "doomed", t0, 60),
      { maxAttempts: 5 },
    );
    const reached = await whop.addFreeDays(
      { membershipId: job.membership_id, days: 3 },
      `incentive:${job.case_id}`,
    );
    assert.equal(reached.ok, true, JSON.stringify(reached));
    const grantsBefore = (await sandbox.calls("/api/v1/memberships/*/add_free_days")).length;

    await withDispatchApp(async (dispatch) => {
      assert.equal((await dispatch(new Date(t0.getTime() + 30_000))).claimed, 0, "not while the lease holds");
      const after = await dispatch(new Date(t0.getTime() + 61_000));
      assert.deepEqual([after.claimed, after.sent], [1, 1], JSON.stringify(after));
    });
    const [row] = await sql`select status, attempts from public.job_queue where id = ${incentiveJob}`;
    assert.deepEqual({ ...row }, { status: "sent", attempts: 2 });
    const extendedBy =
      (Date.parse((await sandbox.membership(job.membership_id)).renewal_period_end) - periodEnd) / 86_400_000;
    assert.equal(extendedBy, 3, "three free days, once");
    const grants = (await sandbox.calls("/api/v1/memberships/*/add_free_days")).length - grantsBefore;
    assert.equal(grants, 0, "the membership showed the days: not called again");
  } finally {
    await sql.end();
  }
}
