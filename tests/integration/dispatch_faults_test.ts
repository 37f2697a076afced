// The retry policy and the circuit breaker against the sandbox's fault injection: 500s, 429 with and
// without Retry-After, timeouts and 400s each end the job `sent`, `failed` or `dead` as specified;
// the backoff schedule is kept; the breaker opens, holds every call but one probe, and closes.
// Everything runs twice: with the sandbox honouring Idempotency-Key and ignoring it (as Whop may).
import assert from "node:assert/strict";
import { connectAsOwner } from "../support/stack.ts";
import {
  IDEMPOTENCY_MODES,
  isolateQueue,
  makeDueJobs,
  sandbox,
  withDispatchApp,
  withIdempotencyMode,
} from "../support/dispatch.ts";
import { setFlags, uniqueCompany } from "../support/webhooks.ts";

const NOTIFICATIONS = "/api/v1/notifications";
const DM_CHANNELS = "/api/v1/dm_channels";
const MESSAGES = "/api/v1/messages";
const seconds = (date: Date, s: number) => new Date(date.getTime() + s * 1000);

async function job(sql: ReturnType<typeof connectAsOwner>, id: number) {
  const [row] = await sql<
    { status: string; attempts: number; scheduled_for: Date; last_error: string | null }[]
  >`
    select status, attempts, scheduled_for, last_error from public.job_queue where id = ${id}`;
  return { ...row, scheduled_for: new Date(row.scheduled_for) };
}

async function callsTo(path: string, after: number) {
  return (await sandbox.calls(path)).filter((call) => call.seq > after);
}

const lastSeq = async () => (await sandbox.calls()).at(-1)?.seq ?? 0;

for (const mode of IDEMPOTENCY_MODES) {
  Deno.test(`fault matrix (Idempotency-Key ${mode}): each Whop answer ends the job as specified, on the backoff schedule`, () =>
    withIdempotencyMode(mode, faultMatrix));
  Deno.test(`circuit breaker (Idempotency-Key ${mode}): opens after repeated failures, lets one probe through, closes on success`, () =>
    withIdempotencyMode(mode, circuitBreaker));
}

async function faultMatrix() {
  const sql = connectAsOwner();
  try {
    await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
    const companyId = uniqueCompany("faults");
    await isolateQueue(sql, companyId);
    await withDispatchApp(async (dispatch) => {
      let t = new Date(Date.now() + 3600_000);

      // 500 → backoff 5-10 s, then 10-20 s, then dead after the third attempt. A DM whose channel
      // cannot be opened: no message can have gone out, so each attempt may try again.
      await sandbox.fault({ method: "POST", path: DM_CHANNELS, status: 500 });
      const [failing] = await makeDueJobs(sql, companyId, "dm", 1, t);
      const seq = await lastSeq();
      for (const [attempt, low, high] of [[1, 5, 10], [2, 10, 20]]) {
        const counts = await dispatch(t);
        assert.equal(counts.retried, 1, `attempt ${attempt}: ${JSON.stringify(counts)}`);
        const row = await job(sql, failing);
        assert.equal(row.status, "pending");
        const wait = (row.scheduled_for.getTime() - t.getTime()) / 1000;
        assert.ok(
          wait >= low && wait <= high,
          `attempt ${attempt} waits ${wait} s, within [${low}, ${high}]`,
        );
        t = row.scheduled_for;
      }
      assert.equal((await dispatch(t)).dead, 1);
      assert.equal((await job(sql, failing)).status, "dead");
      assert.equal((await callsTo(DM_CHANNELS, seq)).length, 3, "three attempts, then no more calls");
      assert.equal((await callsTo(MESSAGES, seq)).length, 0, "no message without a channel");
      const attempts =
        await sql`select status, http_status from public.notification_attempts where job_id = ${failing} order by id`;
      assert.deepEqual(attempts.map((a) => `${a.status}:${a.http_status}`), [
        "retry:500",
        "retry:500",
        "dead:500",
      ]);
      await sandbox.clearFaults();

      // A push answered 500 may have been delivered (Whop cannot be asked): resent once, then dead.
      await sandbox.fault({ method: "POST", path: NOTIFICATIONS, status: 500 });
      t = seconds(t, 60);
      const [unknownPush] = await makeDueJobs(sql, companyId, "push", 1, t);
      const beforePush = await lastSeq();
      assert.equal((await dispatch(t)).retried, 1);
      t = (await job(sql, unknownPush)).scheduled_for;
      assert.equal((await dispatch(t)).dead, 1);
      const ended = await job(sql, unknownPush);
      assert.equal(ended.status, "dead");
      assert.match(String(ended.last_error), /not resent/);
      assert.equal((await callsTo(NOTIFICATIONS, beforePush)).length, 2, "the push went out at most twice");
      await sandbox.clearFaults();

      // 429 with a Retry-After header, and with only "Try again in N seconds." in the body.
      for (
        const [fault, wait] of [
          [{ status: 429, retry_after_seconds: 7, retry_after_header: true }, 7],
          [{ status: 429, retry_after_seconds: 12, retry_after_header: false }, 12],
        ] as const
      ) {
        await sandbox.fault({ method: "POST", path: NOTIFICATIONS, ...fault });
        t = seconds(t, 60);
        const [limited] = await makeDueJobs(sql, companyId, "push", 1, t);
        assert.equal((await dispatch(t)).retried, 1);
        const row = await job(sql, limited);
        assert.equal((row.scheduled_for.getTime() - t.getTime()) / 1000, wait, `429 → again after ${wait} s`);
        await sandbox.clearFaults();
        assert.equal((await dispatch(row.scheduled_for)).sent, 1, "sent once the limit has passed");
      }

      // A timeout is transient: retried.
      await sandbox.fault({ method: "POST", path: NOTIFICATIONS, latency_ms: 1500, times: 1 });
      t = seconds(t, 60);
      const [slow] = await makeDueJobs(sql, companyId, "push", 1, t);
      const beforeSlow = await lastSeq();
      assert.equal((await dispatch(t)).retried, 1);
      assert.match(String((await job(sql, slow)).last_error), /timed? ?out|timeout/i);
      // The sandbox logs the abandoned call when its 1.5 s answer is done; wait for it, so that it
      // cannot land in a later call count (the breaker test's).
      for (let i = 0; i < 50 && (await callsTo(NOTIFICATIONS, beforeSlow)).length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal((await callsTo(NOTIFICATIONS, beforeSlow)).length, 1, "the timed-out call reached Whop");
      await sandbox.clearFaults();

      // A 400 is permanent: failed, never retried.
      await sandbox.fault({
        method: "POST",
        path: NOTIFICATIONS,
        status: 400,
        body: { error: { code: "invalid_experience", message: "Experience not found" } },
      });
      // (within the timed-out job's backoff, so that only the new job is due)
      t = seconds(t, 1);
      const [refused] = await makeDueJobs(sql, companyId, "push", 1, t);
      const before = await lastSeq();
      assert.equal((await dispatch(t)).failed, 1);
      assert.equal((await job(sql, refused)).status, "failed");
      assert.equal((await callsTo(NOTIFICATIONS, before)).length, 1, "the refused job was called once");
      await sandbox.clearFaults();
      const later = await dispatch(seconds(t, 3600));
      assert.deepEqual(
        [later.claimed, later.sent],
        [1, 1],
        "only the timed-out job was due again, and it went out",
      );
      assert.equal((await job(sql, slow)).status, "sent");
      const slowCalls = (await callsTo(NOTIFICATIONS, beforeSlow)).filter((call) =>
        call.idempotency_key === `job:${slow}`
      );
      assert.equal(slowCalls.length, 2, "the timed-out push was resent once");
    }, {
      DISPATCH_RETRY_BASE_SECONDS: "10",
      DISPATCH_MAX_ATTEMPTS: "3",
      WHOP_TIMEOUT_MS: "300",
      DISPATCH_CONCURRENCY: "1",
      DISPATCH_BREAKER_THRESHOLD: "100",
    });
  } finally {
    await sandbox.clearFaults();
    await sql.end();
  }
}

// On the DM channel, with its channel call failing: a failed channel means no message went out, so
// the retries and the probe are plain retries. (A push answered 503 twice ends dead, above.)
async function circuitBreaker() {
  const sql = connectAsOwner();
  try {
    await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
    const companyId = uniqueCompany("breaker");
    await isolateQueue(sql, companyId);
    const breaker = async () =>
      (await sql`select state from public.circuit_breakers where channel = 'dm'`)[0].state;
    await withDispatchApp(async (dispatch) => {
      const t0 = new Date(Date.now() + 7200_000);
      await makeDueJobs(sql, companyId, "dm", 6, t0);
      await sandbox.fault({ method: "POST", path: DM_CHANNELS, status: 503 });

      let seq = await lastSeq();
      const first = await dispatch(t0);
      assert.deepEqual([first.retried, first.deferred], [3, 3], JSON.stringify(first));
      assert.equal(await breaker(), "open");
      assert.equal((await callsTo(DM_CHANNELS, seq)).length, 3, "no call once the breaker opened");

      // While open: due jobs are held back without a single call.
      seq = await lastSeq();
      const held = await dispatch(seconds(t0, 10));
      assert.equal(held.deferred, 3, JSON.stringify(held));
      assert.equal(
        (await callsTo(DM_CHANNELS, seq)).length,
        0,
        "nothing is sent while the breaker is open",
      );

      // After the cool-off, one probe; it fails: open again, still only that one call.
      seq = await lastSeq();
      const probeFailed = await dispatch(seconds(t0, 31));
      assert.equal((await callsTo(DM_CHANNELS, seq)).length, 1, "exactly one probe");
      assert.equal(probeFailed.deferred, 5, JSON.stringify(probeFailed));
      assert.equal(await breaker(), "open");

      // Whop recovers: the next probe succeeds, the breaker closes and the rest goes out.
      await sandbox.clearFaults();
      seq = await lastSeq();
      const recovered = await dispatch(seconds(t0, 3600));
      assert.equal(recovered.sent, 6, JSON.stringify(recovered));
      assert.equal(await breaker(), "closed");
      assert.equal((await callsTo(DM_CHANNELS, seq)).length, 6);
    }, {
      DISPATCH_BREAKER_THRESHOLD: "3",
      DISPATCH_BREAKER_COOLOFF_SECONDS: "30",
      DISPATCH_CONCURRENCY: "1",
      DISPATCH_RETRY_BASE_SECONDS: "1",
      DISPATCH_MAX_ATTEMPTS: "10",
    });
  } finally {
    await sandbox.clearFaults();
    await sql.end();
  }
}
