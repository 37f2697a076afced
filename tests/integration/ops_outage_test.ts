// A complete Whop outage pages someone (issue 11): with the sandbox answering 503 to notifications,
// messages and DM channels and dispatch rounds running, both breakers open; once they have stayed
// open longer than their cool-off (through failed probes that re-open them) the P1 alert
// circuit_breaker_open fires, /api/health turns degraded, `rollout status` says so and the delivery
// figures say 0% wherever they are shown. Both clear when Whop answers again. The dispatcher runs
// with a 2 s cool-off so this takes seconds; tests/unit/ops_test.ts shows the default
// configuration pages within 5 minutes.
import assert from "node:assert/strict";
import { rollout } from "../support/cli.ts";
import { isolateQueue, makeDueJobs, sandbox, withDispatchApp } from "../support/dispatch.ts";
import { alert, connectAsOwner, type OpsApp, opsApp, saveFlags } from "../support/ops.ts";
import { enableEverything, uniqueCompany } from "../support/webhooks.ts";

const WHOP_PATHS = ["/api/v1/notifications", "/api/v1/messages", "/api/v1/dm_channels"];
const COOLOFF_SECONDS = 2;
const DISPATCH = {
  DISPATCH_BREAKER_THRESHOLD: "3",
  DISPATCH_BREAKER_COOLOFF_SECONDS: String(COOLOFF_SECONDS),
  DISPATCH_RETRY_BASE_SECONDS: "1",
};
// Nothing but the outage may make this app's health degraded: other test files leave rows behind.
const ISOLATED = {
  OPS_WEBHOOK_LOOKBACK_HOURS: "0",
  OPS_QUEUE_DEPTH: "1000000",
  OPS_QUEUE_OLDEST_DUE_SECONDS: "100000000",
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function health(app: OpsApp) {
  const { status, body } = await app.json("/api/health");
  const delivery =
    (body.checks as { delivery: { status: string; breakers: { channel: string; stuck: boolean }[] } })
      .delivery;
  return { status, body, delivery, reasons: (body.reasons as string[] | undefined) ?? [] };
}

Deno.test("a full Whop outage fires the P1 alert and degrades /api/health within seconds of one cool-off; both clear when Whop is back", async () => {
  const sql = connectAsOwner();
  const restoreFlags = await saveFlags(sql);
  const companyId = uniqueCompany("outage");
  const app = await opsApp(ISOLATED);
  try {
    await enableEverything(sql);
    await isolateQueue(sql, companyId);
    const due = new Date(Date.now() - 60_000);
    await makeDueJobs(sql, companyId, "push", 12, due);
    await makeDueJobs(sql, companyId, "dm", 12, due);

    assert.equal((await alert(app, "circuit_breaker_open")).firing, false, "nothing fires before the outage");
    const before = await health(app);
    assert.equal(before.delivery.status, "ok", JSON.stringify(before.body));

    for (const path of WHOP_PATHS) await sandbox.fault({ method: "POST", path, status: 503 });
    const outageStarted = performance.now();
    const outageStartedAt = new Date();
    let firedAfterMs: number | null = null;
    let reopened = false;
    await withDispatchApp(async (dispatch) => {
      // Rounds as pg_cron would run them, faster: until the alert fires and a failed probe re-opened a breaker.
      while (performance.now() - outageStarted < 60_000 && (firedAfterMs === null || !reopened)) {
        await dispatch();
        if (firedAfterMs === null && (await alert(app, "circuit_breaker_open")).firing) {
          firedAfterMs = performance.now() - outageStarted;
        }
        const [push] = await sql<{ opened_at: Date; not_closed_since: Date }[]>`
          select opened_at, not_closed_since from public.circuit_breakers where channel = 'push'`;
        reopened ||= push.opened_at !== null && push.not_closed_since !== null &&
          push.opened_at.getTime() > push.not_closed_since.getTime();
        await sleep(400);
      }
    }, DISPATCH);

    assert.ok(firedAfterMs !== null, "circuit_breaker_open fired during the outage");
    assert.ok(reopened, "a probe failed and re-opened the push breaker");
    // One cool-off plus a round or two: far inside 5 minutes.
    assert.ok(firedAfterMs < 30_000, `fired ${Math.round(firedAfterMs)} ms after the outage began`);

    const fired = await alert(app, "circuit_breaker_open");
    assert.equal(fired.severity, "P1");
    assert.ok(fired.firing && fired.listed, JSON.stringify(fired));
    assert.deepEqual((fired.evidence.stuck_channels as string[]).sort(), ["dm", "push"]);
    assert.equal(fired.value, 2);

    const degraded = await health(app);
    assert.equal(degraded.status, 200, "degraded, not down");
    assert.equal(degraded.body.status, "degraded", JSON.stringify(degraded.body));
    assert.equal(degraded.delivery.status, "degraded");
    assert.ok(
      degraded.reasons.some((reason) =>
        /push circuit breaker has been open .*Whop's API is failing/.test(reason)
      ),
      degraded.reasons.join("; "),
    );

    // Every surface shows the same figure: 0% delivered, retries counted as failed tries.
    const reminders = await app.json("/api/scheduler/reminders");
    const delivery = reminders.body.delivery_last_hour as Record<
      string,
      { success_rate: number; tries: number }
    >;
    assert.ok(delivery.push.tries >= 3 && delivery.dm.tries >= 3, JSON.stringify(delivery));
    const [sqlPush] = await sql<{ success_rate: number; tries: number }[]>`
      select success_rate, tries from public.ops_delivery_figures(now() - interval '1 hour') where channel = 'push'`;
    assert.equal(delivery.push.success_rate, sqlPush.success_rate, "the endpoint reads the SQL definition");
    // The last hour also holds other test files' deliveries: judge the outage on its own window.
    const [outagePush] = await sql<{ success_rate: number; tries: number }[]>`
      select success_rate, tries from public.ops_delivery_figures(${outageStartedAt}) where channel = 'push'`;
    assert.ok(outagePush.tries >= 3, `push tries during the outage: ${outagePush.tries}`);
    assert.equal(outagePush.success_rate, 0, "nothing was delivered during the outage");

    // The operator's view: rollout status (the stack's own dashboard, default thresholds).
    const status = await rollout(["status"]);
    assert.equal(status.code, 0, status.text);
    assert.match(status.stdout, /health \(.*\/api\/health\): degraded \(HTTP 200\)/);
    assert.match(status.stdout, /^circuit_breaker_open +P1 /m);

    // Whop is back: the next probe closes each breaker, the alert and the degradation clear.
    await sandbox.clearFaults();
    let cleared = false;
    await withDispatchApp(async (dispatch) => {
      const deadline = performance.now() + 30_000;
      while (!cleared && performance.now() < deadline) {
        await sleep(500);
        await dispatch();
        const [{ open }] = await sql<{ open: number }[]>`
          select count(*)::int as open from public.circuit_breakers where state <> 'closed'`;
        cleared = open === 0;
      }
    }, DISPATCH);
    assert.ok(cleared, "both breakers closed after Whop came back");
    const after = await alert(app, "circuit_breaker_open");
    assert.ok(!after.firing && !after.listed, JSON.stringify(after));
    const recovered = await health(app);
    assert.equal(recovered.delivery.status, "ok", JSON.stringify(recovered.body));
    assert.ok(
      !recovered.reasons.some((reason) => /circuit breaker/.test(reason)),
      recovered.reasons.join("; "),
    );
  } finally {
    await sandbox.clearFaults();
    await app.close();
    await sql`delete from public.companies where company_id = ${companyId}`;
    await sql`update public.circuit_breakers set state = 'closed', consecutive_failures = 0, opened_at = null,
              retry_at = null`;
    await restoreFlags();
    await sql.end();
  }
});
