// `DISPATCH_CONCURRENCY` bounds the calls to Whop in flight across a round's claims, and the slots
// stay full across batch boundaries (issue 12): the next batch is claimed while the last calls of
// the one before are out, so only the round's final wave runs with free slots. Before, each batch
// of 10 at 4 in flight ended with a wave of 2 (3 batches: 6 calls with free slots beside them).
import assert from "node:assert/strict";
import { connectAsOwner } from "../support/stack.ts";
import {
  isolateQueue,
  makeDueJobs,
  sandbox,
  type SandboxCall,
  withDispatchApp,
} from "../support/dispatch.ts";
import { setFlags, uniqueCompany } from "../support/webhooks.ts";

const JOBS = 30;
const BATCH = 10;
const CONCURRENCY = 4;
const LATENCY_MS = 300;

/** How many of the calls were running at each call's midpoint (itself included). */
function inFlightAtMidpoints(calls: SandboxCall[]): number[] {
  const spans = calls.map((call) => {
    const end = Date.parse(call.at);
    return { start: end - call.duration_ms, end };
  });
  return spans.map(({ start, end }) => {
    const middle = (start + end) / 2;
    return spans.filter((other) => other.start <= middle && middle <= other.end).length;
  });
}

Deno.test("calls in flight never exceed DISPATCH_CONCURRENCY across claims, and no batch's tail leaves slots idle", async () => {
  const sql = connectAsOwner();
  try {
    await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
    await sandbox.clearFaults();
    const companyId = uniqueCompany("slots");
    await isolateQueue(sql, companyId);
    const t0 = new Date(Date.now() + 40 * 3600_000);
    const jobIds = await makeDueJobs(sql, companyId, "push", JOBS, t0);
    await sandbox.fault({
      method: "POST",
      path: "/api/v1/notifications",
      latency_ms: LATENCY_MS,
      times: JOBS,
    });
    const keys = new Set(jobIds.map((id) => `job:${id}`));
    await withDispatchApp(async (dispatch) => {
      const counts = await dispatch(t0);
      assert.deepEqual([counts.claimed, counts.sent], [JOBS, JOBS], JSON.stringify(counts));
    }, {
      DISPATCH_BATCH_SIZE: String(BATCH),
      DISPATCH_CONCURRENCY: String(CONCURRENCY),
      DISPATCH_MAX_SECONDS: "30",
    });
    const calls = (await sandbox.calls("/api/v1/notifications")).filter((call) =>
      keys.has(call.idempotency_key!)
    );
    assert.equal(calls.length, JOBS, "each job called once");
    const inFlight = inFlightAtMidpoints(calls);
    assert.ok(Math.max(...inFlight) <= CONCURRENCY, `at most ${CONCURRENCY} in flight: ${inFlight}`);
    const withFreeSlots = inFlight.filter((n) => n < CONCURRENCY).length;
    assert.ok(
      withFreeSlots <= JOBS % CONCURRENCY,
      `only the final wave runs with free slots (${
        JOBS % CONCURRENCY
      } calls); ${withFreeSlots} did: ${inFlight}`,
    );
  } finally {
    await sandbox.clearFaults();
    await sql.end();
  }
});
