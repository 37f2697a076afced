// The database dies in the middle of a dispatch round (issue 11: the round answered 500): the round
// answers 503 with a JSON error and Retry-After, and loses nothing: once the database is back, the
// next round after the lease sends every job, and each member has exactly one DM (the sandbox
// ignoring Idempotency-Key: a message that went out before the database died is found in its
// channel, not sent again). A cluster of its own, since it is stopped mid-test.
import assert from "node:assert/strict";
import postgres from "postgres";
import { withOwnCluster } from "../support/cluster.ts";
import { makeDueJobs, sandbox, type Sql, withDispatchApp, withIdempotencyMode } from "../support/dispatch.ts";
import { setFlags, uniqueCompany } from "../support/webhooks.ts";

const JOBS = 12;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test({
  name: "the database stops mid-round: 503 JSON; after it is back every job goes out, one DM each",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withIdempotencyMode("ignored", () =>
      withOwnCluster(async (cluster) => {
        const sql: Sql = postgres(cluster.url, { max: 2, onnotice: () => {} });
        try {
          await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
          const t0 = new Date(Date.now() + 3600_000);
          const jobIds = await makeDueJobs(sql, uniqueCompany("dbdown"), "dm", JOBS, t0);
          const users = (await sql`select rc.user_id from public.job_queue j
                                   join public.recovery_cases rc on rc.id = j.case_id
                                   where j.id = any (${jobIds}::bigint[])`).map((row) => String(row.user_id));
          const seq = (await sandbox.calls()).at(-1)?.seq ?? 0;
          const messages = async () =>
            (await sandbox.calls("/api/v1/messages")).filter((c) => c.seq > seq && c.method === "POST")
              .length;
          // Four at a time, each message taking 2 s: the database stops once the first four are done.
          await sandbox.fault({ method: "POST", path: "/api/v1/messages", latency_ms: 2000 });

          await withDispatchApp(async (dispatch, request) => {
            const round = request(t0);
            for (let i = 0; i < 200 && (await messages()) < 4; i++) await sleep(50);
            assert.ok((await messages()) >= 4, "the first messages went out");
            await cluster.stop();
            const down = await round;
            assert.equal(down.status, 503);
            assert.ok(down.headers.get("retry-after"), "Retry-After");
            assert.match(down.headers.get("content-type") ?? "", /json/);
            const body = await down.json();
            assert.equal(body.error.code, "service_unavailable");
            assert.match(body.error.message, /database/i);

            await cluster.start();
            await sandbox.clearFaults();
            // After the lease (60 s on the round's clock) the jobs not recorded are claimed again.
            const again = await dispatch(new Date(t0.getTime() + 61_000));
            assert.ok(again.claimed > 0 && again.sent === again.claimed, JSON.stringify(again));
          }, { SUPABASE_DB_URL: cluster.url, DISPATCH_CONCURRENCY: "4", DISPATCH_LEASE_SECONDS: "60" });

          const states = await sql`select status, count(*)::int as n from public.job_queue
                                   where id = any (${jobIds}::bigint[]) group by status`;
          assert.deepEqual(states.map((row) => `${row.status}:${row.n}`), [`sent:${JOBS}`], "nothing lost");
          for (const user of users) {
            assert.equal((await sandbox.messagesTo(user)).length, 1, `one DM for ${user}`);
          }
        } finally {
          await sandbox.clearFaults();
          await sql.end();
        }
      })),
});
