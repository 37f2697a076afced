// Rollout semantics of the dispatcher (ARCHITECTURE section 6): SCHEDULER_ENABLED off claims
// nothing (also when forced off by the environment); NOTIFICATIONS_ENABLED off, or a company outside
// the rollout percentage and allow-list, turns due jobs `suppressed`: visible, never sent.
import assert from "node:assert/strict";
import { connectAsOwner } from "../support/stack.ts";
import { isolateQueue, makeDueJobs, withDispatchApp } from "../support/dispatch.ts";
import { setFlags, uniqueCompany } from "../support/webhooks.ts";

type Sql = ReturnType<typeof connectAsOwner>;
const statusOf = async (sql: Sql, id: number) =>
  (await sql`select status from public.job_queue where id = ${id}`)[0].status;

/** A company id whose rollout bucket is below (inside) or at/above (outside) `percent`. */
async function companyIn(sql: Sql, percent: number, inside: boolean): Promise<string> {
  for (;;) {
    const id = uniqueCompany("flags");
    const [{ bucket }] = await sql`select private.company_bucket(${id}) as bucket`;
    if ((bucket < percent) === inside) return id;
  }
}

Deno.test("SCHEDULER_ENABLED off, in the table or the environment: nothing is claimed", async () => {
  const sql = connectAsOwner();
  try {
    const companyId = uniqueCompany("flags");
    await isolateQueue(sql, "biz_flags");
    const [id] = await makeDueJobs(sql, companyId, "push", 1, new Date(Date.now() - 1000));
    await setFlags(sql, { SCHEDULER_ENABLED: false, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
    await withDispatchApp(async (dispatch) => assert.equal((await dispatch()).claimed, 0));
    assert.equal(await statusOf(sql, id), "pending");

    await setFlags(sql, { SCHEDULER_ENABLED: true });
    await withDispatchApp(async (dispatch) => {
      const counts = await dispatch();
      assert.equal(counts.claimed, 0, JSON.stringify(counts));
    }, { SCHEDULER_ENABLED: "false" });
    assert.equal(await statusOf(sql, id), "pending", "the environment forces the scheduler off");

    await setFlags(sql, { ROLLBACK_MODE: true });
    await withDispatchApp(async (dispatch) =>
      assert.equal((await dispatch()).claimed, 0, "ROLLBACK_MODE stops it too")
    );
    await setFlags(sql, { ROLLBACK_MODE: false });
    await withDispatchApp(async (dispatch) => assert.equal((await dispatch()).sent, 1));
  } finally {
    await sql.end();
  }
});

Deno.test("NOTIFICATIONS_ENABLED off, or outside the rollout: due jobs are suppressed, not sent", async () => {
  const sql = connectAsOwner();
  try {
    await isolateQueue(sql, "biz_flags");
    await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: false, ROLLBACK_MODE: false });
    const off = await makeDueJobs(sql, uniqueCompany("flags"), "push", 1, new Date(Date.now() - 1000));
    await withDispatchApp(async (dispatch) => assert.equal((await dispatch()).suppressed, 1));
    assert.equal(await statusOf(sql, off[0]), "suppressed");

    // 10% rollout: a company inside gets its nudge, one outside is suppressed, the allow-list wins.
    await sql`update public.feature_flags set enabled = true, rollout_percent = 10, company_allowlist = '{}'
              where name = 'NOTIFICATIONS_ENABLED'`;
    const inside = await companyIn(sql, 10, true);
    const outside = await companyIn(sql, 10, false);
    const listed = await companyIn(sql, 10, false);
    await sql`update public.feature_flags set company_allowlist = ${[
      listed,
    ]} where name = 'NOTIFICATIONS_ENABLED'`;
    const due = new Date(Date.now() - 1000);
    const [a] = await makeDueJobs(sql, inside, "push", 1, due);
    const [b] = await makeDueJobs(sql, outside, "push", 1, due);
    const [c] = await makeDueJobs(sql, listed, "push", 1, due);
    await withDispatchApp(async (dispatch) => {
      const counts = await dispatch();
      assert.deepEqual([counts.sent, counts.suppressed], [2, 1], JSON.stringify(counts));
    });
    assert.deepEqual([await statusOf(sql, a), await statusOf(sql, b), await statusOf(sql, c)], [
      "sent",
      "suppressed",
      "sent",
    ]);
  } finally {
    await setFlags(sql, { NOTIFICATIONS_ENABLED: true });
    await sql.end();
  }
});
