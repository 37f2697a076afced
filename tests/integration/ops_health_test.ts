// The ops health endpoints on the real database: each turns 503 when its dependency fails (the
// database refuses or hangs, the reminder queue backs up, webhooks fall silent) and 200 again after,
// within about two seconds, and their figures match the database.
import assert from "node:assert/strict";
import { setFlags, signedRequest, withWebhookApp } from "../support/webhooks.ts";
import { paymentEvent } from "../../whop-sandbox/payloads.ts";
import { connectAsOwner, databaseTarget, opsApp, opsCompany, saveFlags, TcpProxy } from "../support/ops.ts";

const HEALTH_PATHS = ["/api/health", "/api/health/db", "/api/health/webhooks", "/api/scheduler/reminders"];

Deno.test({
  name: "every health endpoint answers 503 within 2 s when the database refuses or hangs, and 200 after",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const proxy = new TcpProxy(databaseTarget());
    // A long silence threshold and no lookback: the shared database's traffic cannot make these unhealthy.
    const app = await opsApp({
      DATABASE_URL: proxy.url(),
      OPS_WEBHOOK_LOOKBACK_HOURS: "0",
      OPS_QUEUE_DEPTH: "1000000",
      OPS_QUEUE_OLDEST_DUE_SECONDS: "100000000",
    });
    try {
      for (const path of HEALTH_PATHS) {
        const { status, body } = await app.json(path);
        assert.equal(status, 200, `${path}: ${JSON.stringify(body)}`);
        assert.notEqual(body.status, "unavailable");
      }
      for (const mode of ["refuse", "hang"] as const) {
        proxy.setMode(mode);
        for (const path of HEALTH_PATHS) {
          const { status, body, ms } = await app.json(path);
          assert.equal(status, 503, `${mode}: ${path}`);
          assert.equal(body.status, "unavailable");
          assert.ok(ms < 2500, `${mode}: ${path} answered in ${Math.round(ms)} ms`);
          assert.ok(!JSON.stringify(body).includes(proxy.url()), "the database URL is not shown");
        }
        proxy.setMode("forward");
        for (const path of HEALTH_PATHS) {
          assert.equal((await app.json(path)).status, 200, `${path} is back after ${mode}`);
        }
      }
      const { body } = await app.json("/api/health");
      assert.equal((body.checks as { database: { status: string } }).database.status, "ok");
    } finally {
      await app.close();
      await proxy.close();
    }
  },
});

Deno.test("/api/scheduler/reminders: 503 while due jobs back up with the scheduler on, 200 once they are gone", async () => {
  const sql = connectAsOwner();
  const restoreFlags = await saveFlags(sql);
  const company = await opsCompany(sql);
  const app = await opsApp({ OPS_QUEUE_OLDEST_DUE_SECONDS: "86400" });
  try {
    await setFlags(sql, { SCHEDULER_ENABLED: true, ROLLBACK_MODE: false });
    const before = await app.json("/api/scheduler/reminders");
    assert.equal(before.status, 200, JSON.stringify(before.body));
    const depthBefore = (before.body.queue as { depth: number }).depth;

    await company.addDueJobs(3, 2 * 86400);
    const backedUp = await app.json("/api/scheduler/reminders");
    assert.equal(backedUp.status, 503);
    assert.equal(backedUp.body.status, "unavailable");
    const queue = backedUp.body.queue as { depth: number; oldest_due_age_seconds: number };
    assert.equal(queue.depth, depthBefore + 3);
    assert.ok(queue.oldest_due_age_seconds >= 2 * 86400);
    assert.match(String((backedUp.body.reasons as string[])[0]), /oldest due job waits/);
    // The same SQL as the endpoint's definition of due.
    const [due] = await sql<{ depth: number }[]>`
      select count(*)::int as depth from public.job_queue
      where (status = 'pending' and scheduled_for <= now()) or (status = 'claimed' and lease_expires_at <= now())`;
    assert.equal(queue.depth, due.depth);

    const overall = await app.json("/api/health");
    assert.equal(overall.status, 200, "the application as a whole is degraded, not down");
    assert.equal(overall.body.status, "degraded");
    assert.equal((overall.body.checks as { scheduler: { status: string } }).scheduler.status, "unavailable");

    await setFlags(sql, { SCHEDULER_ENABLED: false });
    const off = await app.json("/api/scheduler/reminders");
    assert.equal(off.status, 200, "with the scheduler off, waiting jobs are expected");
    assert.equal(off.body.status, "degraded");
    assert.match(String((off.body.reasons as string[])[0]), /SCHEDULER_ENABLED is off/);
    await setFlags(sql, { SCHEDULER_ENABLED: true });

    await sql`delete from public.job_queue where company_id = ${company.companyId}`;
    const after = await app.json("/api/scheduler/reminders");
    assert.equal(after.status, 200);
    assert.equal((after.body.queue as { depth: number }).depth, depthBefore);
    const cron = after.body.cron as { available: boolean; jobs: { job: string }[] };
    assert.ok(cron.available);
    assert.ok(cron.jobs.some((job) => job.job === "churn-saver-dispatch"), "pg_cron jobs are listed by name");
    assert.deepEqual(Object.keys(after.body.delivery_last_hour as object).sort(), [
      "dm",
      "incentive",
      "push",
    ]);
  } finally {
    await app.close();
    await company.cleanup();
    await restoreFlags();
    await sql.end();
  }
});

Deno.test("/api/health/webhooks: 503 when webhooks stop after flowing, 200 when one arrives; an idle install is fine", async () => {
  const sql = connectAsOwner();
  const company = await opsCompany(sql);
  const silence = 2;
  const app = await opsApp({ OPS_WEBHOOK_SILENCE_SECONDS: String(silence) });
  const idleInstall = await opsApp({
    OPS_WEBHOOK_SILENCE_SECONDS: String(silence),
    OPS_WEBHOOK_LOOKBACK_HOURS: "0.0005",
  });
  try {
    await company.addEvent(60);
    // Nothing else writes events while this file runs: wait until the newest is older than the threshold.
    let silent = await app.json("/api/health/webhooks");
    for (let i = 0; i < 40 && silent.status !== 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      silent = await app.json("/api/health/webhooks");
    }
    assert.equal(silent.status, 503, JSON.stringify(silent.body));
    assert.equal(silent.body.status, "unavailable");
    assert.ok((silent.body.last_age_seconds as number) > silence);
    assert.match(String((silent.body.reasons as string[])[0]), /no webhook for/);
    const overall = await app.json("/api/health");
    assert.equal(overall.status, 200);
    assert.equal((overall.body.checks as { webhooks: { status: string } }).webhooks.status, "degraded");

    // Silent for longer than the lookback (1.8 s here, a day by default): never seen flowing, not "stopped".
    const idle = await idleInstall.json("/api/health/webhooks");
    assert.equal(idle.status, 200, JSON.stringify(idle.body));

    await company.addEvent(0);
    const flowing = await app.json("/api/health/webhooks");
    assert.equal(flowing.status, 200, JSON.stringify(flowing.body));
    assert.ok((flowing.body.last_age_seconds as number) < silence);
  } finally {
    await app.close();
    await idleInstall.close();
    await company.cleanup();
    await sql.end();
  }
});

Deno.test("/api/health/webhooks counts deliveries, duplicates and signature failures as the database does", async () => {
  const sql = connectAsOwner();
  const restoreFlags = await saveFlags(sql);
  const app = await opsApp();
  const companyId = `biz_ops_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  try {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
    type Hour = {
      deliveries: number;
      stored: number;
      duplicates: number;
      rejected: number;
      signature_failures: number;
      duplicate_rate: number;
      signature_failure_rate: number;
      rejected_by_reason: Record<string, number>;
      processing_latency_seconds: { p50: number; p95: number; p99: number };
    };
    const before = (await app.json("/api/health/webhooks")).body.last_hour as Hour;

    await withWebhookApp(async ({ send }) => {
      const payload = paymentEvent("payment.failed", { companyId, membershipId: `mem_${companyId}` });
      const request = () => signedRequest(payload, { id: `msg_${companyId}` });
      assert.equal((await send(await request())).status, 200);
      assert.equal((await send(await request())).body.status, "duplicate");
      assert.equal((await send(await request())).body.status, "duplicate");
      assert.equal((await send(await signedRequest(payload, { secret: "ws_not_the_secret" }))).status, 401);
    });

    const { status, body } = await app.json("/api/health/webhooks");
    assert.equal(status, 200, JSON.stringify(body));
    const hour = body.last_hour as Hour;
    assert.equal(hour.stored, before.stored + 1);
    assert.equal(hour.duplicates, before.duplicates + 2);
    assert.equal(hour.signature_failures, before.signature_failures + 1);
    assert.equal(hour.rejected_by_reason.bad_signature, (before.rejected_by_reason.bad_signature ?? 0) + 1);
    assert.equal(hour.deliveries, hour.stored + hour.duplicates + hour.rejected);
    assert.equal(
      hour.duplicate_rate,
      Math.round((hour.duplicates / (hour.stored + hour.duplicates)) * 10000) / 10000,
    );
    const [db] = await sql<{ stored: number; p50: number }[]>`
      select count(*)::int as stored,
             percentile_cont(0.5) within group (order by extract(epoch from processed_at - received_at)) as p50
      from public.events where received_at > now() - interval '1 hour'`;
    assert.equal(hour.stored, db.stored);
    assert.equal(hour.processing_latency_seconds.p50, Math.round(db.p50 * 1000) / 1000);
    assert.equal(body.processing as string, "on");
  } finally {
    await app.close();
    await sql`delete from public.companies where company_id = ${companyId}`;
    await restoreFlags();
    await sql.end();
  }
});

Deno.test("/api/health/db reports the pool by its own name and connections against max_connections", async () => {
  const sql = connectAsOwner();
  const app = await opsApp();
  try {
    const { status, body } = await app.json("/api/health/db");
    assert.equal(status, 200, JSON.stringify(body));
    const pool = body.pool as { application_name: string; max: number; open: number };
    assert.match(pool.application_name, /^dashboard [0-9a-f]{8}$/);
    assert.equal(pool.max, 10);
    const [row] = await sql<{ max: number }[]>`select current_setting('max_connections')::int as max`;
    const connections = body.connections as { used: number; max: number; percent: number };
    assert.equal(connections.max, row.max);
    assert.ok(connections.used >= 1);
    assert.equal(typeof body.latency_ms, "number");
  } finally {
    await app.close();
    await sql.end();
  }
});

Deno.test("a partial scheduler shows as partial: claim_due_jobs applies its percentage per company", async () => {
  const sql = connectAsOwner();
  const restoreFlags = await saveFlags(sql);
  const app = await opsApp();
  const scheduler = async () => {
    const { body } = await app.json("/api/scheduler/reminders");
    return body.scheduler;
  };
  try {
    await setFlags(sql, { SCHEDULER_ENABLED: true, ROLLBACK_MODE: false });
    assert.equal(await scheduler(), "on");
    await sql`update public.feature_flags set rollout_percent = 20 where name = 'SCHEDULER_ENABLED'`;
    assert.equal(await scheduler(), "partial");
    await sql`update public.feature_flags set rollout_percent = 0 where name = 'SCHEDULER_ENABLED'`;
    assert.equal(await scheduler(), "off", "enabled at 0% claims nothing");
  } finally {
    await app.close();
    await restoreFlags();
    await sql.end();
  }
});
