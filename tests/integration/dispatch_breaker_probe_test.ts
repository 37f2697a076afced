// The circuit breaker always leaves half_open (issue 11): the probe's 429 re-opens it until Whop's
// advised delay, its 422 (Whop answered: it works) closes it, and a probe whose dispatcher was
// killed (taken, never answered) is taken over by another dispatcher once its lease has passed.
// Before, each of these left the channel half_open for good and every round deferred all its jobs.
// The real dispatcher against the sandbox, on the DM channel with its channel call failing (a failed
// channel means no message can have gone out, so the probes are plain sends), on a fixed clock.
import assert from "node:assert/strict";
import { connectAsOwner } from "../support/stack.ts";
import { isolateQueue, makeDueJobs, sandbox, type Sql, withDispatchApp } from "../support/dispatch.ts";
import { setFlags, uniqueCompany } from "../support/webhooks.ts";

const DM_CHANNELS = "/api/v1/dm_channels";
const COOLOFF_SECONDS = 30;
const LEASE_SECONDS = 60;
const ENV = {
  DISPATCH_BREAKER_THRESHOLD: "1",
  DISPATCH_BREAKER_COOLOFF_SECONDS: String(COOLOFF_SECONDS),
  DISPATCH_LEASE_SECONDS: String(LEASE_SECONDS),
  DISPATCH_CONCURRENCY: "1",
  DISPATCH_RETRY_BASE_SECONDS: "1",
  DISPATCH_MAX_ATTEMPTS: "10",
};
const seconds = (date: Date, s: number) => new Date(date.getTime() + s * 1000);

interface Breaker {
  state: string;
  retry_at: Date | null;
  probe_holder: string | null;
}

async function breaker(sql: Sql): Promise<Breaker> {
  const [row] = await sql<Breaker[]>`
    select state, retry_at, probe_holder from public.circuit_breakers where channel = 'dm'`;
  return row;
}

const lastSeq = async () => (await sandbox.calls()).at(-1)?.seq ?? 0;
const channelCalls = async (after: number) => (await sandbox.calls(DM_CHANNELS)).filter((c) => c.seq > after);

/** Five due DM jobs at `t0` and the breaker opened by a real failure (threshold 1); the four
 * others deferred. Returns when the probe may go: after the cool-off. */
async function openBreaker(
  sql: Sql,
  companyId: string,
  dispatch: (now?: Date) => Promise<Record<string, number>>,
  t0: Date,
) {
  await makeDueJobs(sql, companyId, "dm", 5, t0);
  await sandbox.fault({ method: "POST", path: DM_CHANNELS, status: 503, times: 1 });
  const opened = await dispatch(t0);
  assert.deepEqual([opened.retried, opened.deferred], [1, 4], JSON.stringify(opened));
  assert.equal((await breaker(sql)).state, "open");
  return seconds(t0, COOLOFF_SECONDS + 1);
}

/** A company of its own, alone in the queue, every breaker closed. */
async function withBreakerStack(fn: (sql: Sql, companyId: string) => Promise<void>) {
  const sql = connectAsOwner();
  try {
    await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
    await sandbox.clearFaults();
    const companyId = uniqueCompany("probe");
    await isolateQueue(sql, companyId);
    await fn(sql, companyId);
  } finally {
    await sandbox.clearFaults();
    await sql.end();
  }
}

Deno.test("breaker: a probe answered 429 re-opens it until the advised delay, then the next probe closes it", async () => {
  await withBreakerStack(async (sql, companyId) => {
    await withDispatchApp(async (dispatch) => {
      const t0 = new Date(Date.now() + 20 * 3600_000);
      const probeAt = await openBreaker(sql, companyId, dispatch, t0);

      await sandbox.fault({
        method: "POST",
        path: DM_CHANNELS,
        status: 429,
        retry_after_seconds: 12,
        retry_after_header: true,
        times: 1,
      });
      let seq = await lastSeq();
      const limited = await dispatch(probeAt);
      assert.equal((await channelCalls(seq)).length, 1, "one probe");
      assert.deepEqual([limited.retried, limited.deferred], [1, 4], JSON.stringify(limited));
      const after = await breaker(sql);
      assert.equal(after.state, "open", "not left half_open");
      assert.equal(after.probe_holder, null);
      assert.equal(
        after.retry_at?.getTime(),
        seconds(probeAt, 12).getTime(),
        "open until Whop's advised delay",
      );

      const due = await sql`select distinct scheduled_for from public.job_queue
                            where company_id = ${companyId} and status = 'pending'`;
      assert.deepEqual(
        due.map((row) => row.scheduled_for.getTime()),
        [after.retry_at?.getTime()],
        "all due then",
      );
      seq = await lastSeq();
      assert.equal((await dispatch(seconds(probeAt, 11))).claimed, 0, "nothing before it");
      assert.equal((await channelCalls(seq)).length, 0);
      const recovered = await dispatch(seconds(probeAt, 3600));
      assert.equal(recovered.sent, 5, JSON.stringify(recovered));
      assert.equal((await breaker(sql)).state, "closed");
    }, ENV);
  });
});

Deno.test("breaker: a probe answered 422 closes it (Whop works); the refused job fails, the rest go out", async () => {
  await withBreakerStack(async (sql, companyId) => {
    await withDispatchApp(async (dispatch) => {
      const t0 = new Date(Date.now() + 21 * 3600_000);
      const probeAt = await openBreaker(sql, companyId, dispatch, t0);

      await sandbox.fault({
        method: "POST",
        path: DM_CHANNELS,
        status: 422,
        body: { error: { code: "invalid_params", message: "with_user_ids: user not found" } },
        times: 1,
      });
      // The retried job (due a second after t0) probes: it is refused; the four deferred follow.
      const answered = await dispatch(probeAt);
      assert.deepEqual(
        [answered.failed, answered.sent, answered.deferred],
        [1, 4, 0],
        JSON.stringify(answered),
      );
      const after = await breaker(sql);
      assert.equal(after.state, "closed", "a 4xx is an answer: Whop is reachable");
      assert.equal(after.probe_holder, null);
    }, ENV);
  });
});

Deno.test("breaker: a probe whose dispatcher was killed is taken over once its lease has passed", async () => {
  await withBreakerStack(async (sql, companyId) => {
    await withDispatchApp(async (dispatch) => {
      const t0 = new Date(Date.now() + 22 * 3600_000);
      const probeAt = await openBreaker(sql, companyId, dispatch, t0);

      // A dispatcher takes the probe, as the dispatcher does, and is killed before any answer.
      const [{ taken }] = await sql`
        select public.breaker_try_probe('dm', 'killed-dispatcher', ${LEASE_SECONDS}, ${probeAt}) as taken`;
      assert.equal(taken, true);

      let seq = await lastSeq();
      const held = await dispatch(seconds(probeAt, LEASE_SECONDS - 1));
      assert.equal(held.deferred, 5, `others wait while the probe's lease holds: ${JSON.stringify(held)}`);
      assert.equal((await channelCalls(seq)).length, 0);
      assert.equal((await breaker(sql)).state, "half_open");

      seq = await lastSeq();
      const takenOver = await dispatch(seconds(probeAt, LEASE_SECONDS + 3600));
      assert.equal(takenOver.sent, 5, `the lease passed: probed, closed, sent: ${JSON.stringify(takenOver)}`);
      assert.equal((await channelCalls(seq)).length, 5);
      const after = await breaker(sql);
      assert.equal(after.state, "closed");
      assert.equal(after.probe_holder, null);
    }, ENV);
  });
});
