// A batch's lease lasts while the batch works, and a job whose lease was lost is not sent (issue 11).
// Four dispatchers, started a few seconds apart as pg_cron and the stack runner would, send 2,000
// jobs through a Whop that answers every call in 5 s, with the sandbox ignoring Idempotency-Key:
// each batch (200 jobs, 40 calls in flight: 25 s) outlives its claim's 16 s lease, which before
// this change let a later dispatcher claim and send the jobs still queued in an earlier one's batch.
// Every mutation must reach Whop once, and the rounds' counts must add up to what the database holds.
// Then, on a fixed clock: a job taken over by another dispatcher mid-send is not sent, a completion
// the database refuses is counted `lease_lost`, not `sent`, and a round past its time budget starts
// no more jobs (it hands them back), so its batch cannot outlive it.
import assert from "node:assert/strict";
import { connectAsOwner } from "../support/stack.ts";
import {
  type Counts,
  isolateQueue,
  makeDueJobs,
  sandbox,
  type SandboxCall,
  type Sql,
  withDispatchApp,
  withIdempotencyMode,
} from "../support/dispatch.ts";
import { setFlags, uniqueCompany } from "../support/webhooks.ts";

const MUTATIONS = ["/api/v1/notifications", "/api/v1/dm_channels", "/api/v1/messages"];
const OUTCOMES = ["sent", "retried", "failed", "dead", "deferred", "released", "lease_lost"] as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function mutationsAfter(seq: number): Promise<SandboxCall[]> {
  const calls: SandboxCall[] = [];
  for (const path of MUTATIONS) calls.push(...(await sandbox.calls(path)).filter((call) => call.seq > seq));
  return calls;
}

Deno.test({
  name:
    "slow Whop (5 s), 4 dispatchers, 2,000 jobs, Idempotency-Key ignored: no mutation twice, counts match",
  sanitizeResources: false,
  fn: () =>
    withIdempotencyMode("ignored", async () => {
      const sql = connectAsOwner();
      try {
        await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
        const companyId = uniqueCompany("slowwhop");
        await isolateQueue(sql, companyId);
        const due = new Date(Date.now() - 60_000);
        // Interleaved, so that each batch holds pushes and DMs (a DM is two calls: channel, message).
        const jobIds: number[] = [];
        for (let i = 0; i < 10; i++) {
          jobIds.push(...await makeDueJobs(sql, companyId, "push", 180, due));
          jobIds.push(...await makeDueJobs(sql, companyId, "dm", 20, due));
        }
        const before = (await sandbox.calls()).at(-1)?.seq ?? 0;
        await sandbox.fault({ path: "/api/v1/**", latency_ms: 5000 });

        const rounds: Counts[] = [];
        const unfinished = async () =>
          (await sql`select count(*)::int as n from public.job_queue
                     where company_id = ${companyId} and status in ('pending', 'claimed')`)[0].n;
        const giveUpAt = performance.now() + 150_000;
        const started = performance.now();
        const dispatcher = (startAfterMs: number) =>
          withDispatchApp(async (dispatch) => {
            await sleep(startAfterMs);
            while (performance.now() < giveUpAt) {
              const counts = await dispatch();
              rounds.push(counts);
              if (counts.claimed > 0) continue;
              if ((await unfinished()) === 0) break;
              await sleep(1000);
            }
          }, {
            DISPATCH_BATCH_SIZE: "200",
            DISPATCH_CONCURRENCY: "40",
            DISPATCH_LEASE_SECONDS: "16",
            WHOP_TIMEOUT_MS: "8000",
            DISPATCH_BREAKER_THRESHOLD: "1000",
          });
        await Promise.all([dispatcher(0), dispatcher(6000), dispatcher(12_000), dispatcher(18_000)]);
        const seconds = (performance.now() - started) / 1000;
        await sandbox.clearFaults();

        // Every mutation reached Whop once (the sandbox applied each one it received).
        const calls = await mutationsAfter(before);
        const perKey = new Map<string, number>();
        for (const call of calls) {
          perKey.set(String(call.idempotency_key), (perKey.get(String(call.idempotency_key)) ?? 0) + 1);
        }
        const twice = [...perKey].filter(([, n]) => n > 1);
        assert.deepEqual(twice.slice(0, 5), [], `${twice.length} mutations reached Whop more than once`);
        assert.equal(calls.filter((call) => call.path === "/api/v1/notifications").length, 1800);
        assert.equal(calls.filter((call) => call.path === "/api/v1/messages").length, 200);
        assert.ok(
          jobIds.every((id) => perKey.has(`job:${id}`) || perKey.has(`job:${id}:message`)),
          "each job sent",
        );

        // The rounds' counts are what the database holds.
        const total = Object.fromEntries(
          ["claimed", ...OUTCOMES].map((key) => [
            key,
            rounds.reduce((sum, round) => sum + (round[key] ?? 0), 0),
          ]),
        );
        for (const round of rounds) {
          assert.equal(
            round.claimed,
            OUTCOMES.reduce((sum, key) => sum + round[key], 0),
            `each claimed job ends in one outcome: ${JSON.stringify(round)}`,
          );
        }
        const [db] = await sql`
          select count(*) filter (where j.status = 'sent')::int as sent_jobs,
                 count(*) filter (where j.status <> 'sent')::int as other_jobs,
                 (select count(*)::int from public.notification_attempts a where a.company_id = ${companyId} and a.status = 'sent') as sent_attempts,
                 (select count(*)::int from public.notification_attempts a where a.company_id = ${companyId} and a.status = 'retry') as retry_attempts
          from public.job_queue j where j.company_id = ${companyId}`;
        assert.deepEqual(
          { sent: total.sent, retried: total.retried },
          { sent: db.sent_attempts, retried: db.retry_attempts },
          "the rounds counted what was recorded",
        );
        assert.deepEqual(
          [db.sent_jobs, db.other_jobs, total.sent],
          [2000, 0, 2000],
          "all 2,000 sent, each counted once",
        );
        assert.equal(
          total.lease_lost,
          0,
          `the batches kept their leases while they worked: ${JSON.stringify(total)}`,
        );
        const took = `${seconds.toFixed(1)} s, ${rounds.length} rounds`;
        console.log(`2,000 jobs against a 5 s Whop by 4 dispatchers in ${took}: ${JSON.stringify(total)}`);
      } finally {
        await sandbox.clearFaults();
        await sql.end();
      }
    }),
});

/** One due job of a new company, alone in the queue; its dispatch round runs at `t0` (fixed clock). */
async function lostLease(
  channel: "push" | "dm",
  hour: number,
  slowPath: string,
  check: (sql: Sql, jobId: number, counts: Counts, seq: number) => Promise<void>,
) {
  const sql = connectAsOwner();
  try {
    await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
    await sandbox.clearFaults();
    const companyId = uniqueCompany(`lost${channel}`);
    await isolateQueue(sql, companyId);
    const t0 = new Date(Date.now() + hour * 3600_000);
    const [jobId] = await makeDueJobs(sql, companyId, channel, 1, t0);
    const seq = (await sandbox.calls()).at(-1)?.seq ?? 0;
    // The call is held for 3 s once it has arrived: the fault disappears from the list on arrival.
    const fault = await sandbox.fault({ method: "POST", path: slowPath, latency_ms: 3000, times: 1 });
    await withDispatchApp(async (dispatch) => {
      const round = dispatch(t0);
      for (let i = 0; i < 200 && (await sandbox.faults()).some((f) => f.id === fault.id); i++) {
        await sleep(25);
      }
      // Meanwhile the lease passes (on the round's clock) and another dispatcher claims the job.
      const [taken] = await sql`
        select job_id from public.claim_due_jobs('other-dispatcher', 10, 60, ${new Date(
        t0.getTime() + 61_000,
      )})`;
      assert.equal(Number(taken?.job_id), jobId, "the other dispatcher has the job");
      await check(sql, jobId, await round, seq);
    }, { DISPATCH_LEASE_SECONDS: "60" });
    const [row] = await sql`select status, claimed_by from public.job_queue where id = ${jobId}`;
    assert.deepEqual({ ...row }, { status: "claimed", claimed_by: "other-dispatcher" }, "still the other's");
    const [{ n }] =
      await sql`select count(*)::int as n from public.notification_attempts where job_id = ${jobId}`;
    assert.equal(n, 0, "nothing recorded by the dispatcher that lost it");
  } finally {
    await sandbox.clearFaults();
    await sql.end();
  }
}

Deno.test("a DM whose lease went to another dispatcher while its channel opened is not sent", async () => {
  await lostLease("dm", 30, "/api/v1/dm_channels", async (_sql, jobId, counts, seq) => {
    assert.deepEqual([counts.claimed, counts.sent, counts.lease_lost], [1, 0, 1], JSON.stringify(counts));
    const messages = (await sandbox.calls("/api/v1/messages")).filter((call) =>
      call.seq > seq && call.idempotency_key === `job:${jobId}:message`
    );
    assert.equal(messages.length, 0, "no message sent without the lease");
  });
});

Deno.test("a push whose lease went to another dispatcher during the call: the refused completion is not counted as sent", async () => {
  await lostLease("push", 31, "/api/v1/notifications", async (_sql, jobId, counts, seq) => {
    assert.deepEqual([counts.claimed, counts.sent, counts.lease_lost], [1, 0, 1], JSON.stringify(counts));
    const pushes = (await sandbox.calls("/api/v1/notifications")).filter((call) =>
      call.seq > seq && call.idempotency_key === `job:${jobId}`
    );
    assert.equal(pushes.length, 1, "the call was made while the lease was held");
  });
});

Deno.test("a round starts no job after its time budget: the rest of the batch is handed back, due at once", async () => {
  const sql = connectAsOwner();
  try {
    await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
    await sandbox.clearFaults();
    const companyId = uniqueCompany("budget");
    await isolateQueue(sql, companyId);
    const t0 = new Date(Date.now() + 32 * 3600_000);
    const jobIds = await makeDueJobs(sql, companyId, "push", 3, t0);
    // One call at a time, each taking longer than the round's whole budget.
    await sandbox.fault({ method: "POST", path: "/api/v1/notifications", latency_ms: 1500, times: 1 });
    await withDispatchApp(async (dispatch) => {
      const started = performance.now();
      const first = await dispatch(t0);
      const seconds = (performance.now() - started) / 1000;
      assert.deepEqual([first.claimed, first.sent, first.released], [3, 1, 2], JSON.stringify(first));
      assert.ok(seconds < 5, `the round ended one call after its 1 s budget: ${seconds.toFixed(1)} s`);
      const rows = await sql`select status, attempts from public.job_queue
                             where id = any (${jobIds}::bigint[]) and status <> 'sent'`;
      assert.deepEqual(
        rows.map((row) => `${row.status}:${row.attempts}`),
        ["pending:0", "pending:0"],
        "not an attempt",
      );
      const next = await dispatch(t0);
      assert.deepEqual([next.claimed, next.sent], [2, 2], "due again at once");
    }, { DISPATCH_MAX_SECONDS: "1", DISPATCH_CONCURRENCY: "1" });
  } finally {
    await sandbox.clearFaults();
    await sql.end();
  }
});
