// Every alert rule of /api/alerts fires on data arranged for it, with its evidence, and clears when
// the data is put back. Figures are global (other test files leave rows behind), so each test reads
// the current value first and sets the thresholds of its own app around it (createApp takes an env).
import assert from "node:assert/strict";
import { setFlags } from "../support/webhooks.ts";
import {
  alert,
  alerts,
  connectAsOwner,
  databaseTarget,
  type OpsApp,
  opsApp,
  opsCompany,
  type OwnerSql,
  saveFlags,
  TcpProxy,
} from "../support/ops.ts";
import { stack } from "../support/stack.ts";
import postgres from "postgres";

type Company = Awaited<ReturnType<typeof opsCompany>>;

/** Runs `fn` with an owner connection, a company of its own, and the flags put back afterwards. */
async function arranged(fn: (sql: OwnerSql, company: Company) => Promise<void>) {
  const sql = connectAsOwner();
  const restoreFlags = await saveFlags(sql);
  const company = await opsCompany(sql);
  try {
    await fn(sql, company);
  } finally {
    await company.cleanup();
    await restoreFlags();
    await sql.end();
  }
}

async function withApp(overrides: Record<string, string>, fn: (app: OpsApp) => Promise<void>) {
  const app = await opsApp(overrides);
  try {
    await fn(app);
  } finally {
    await app.close();
  }
}

async function assertFires(app: OpsApp, id: string, check?: (a: Awaited<ReturnType<typeof alert>>) => void) {
  const a = await alert(app, id);
  assert.ok(a.firing && a.listed, `${id} fires: ${JSON.stringify(a)}`);
  assert.ok(a.value !== null && a.value > a.threshold, `${id}: value ${a.value} > threshold ${a.threshold}`);
  assert.ok(Object.keys(a.evidence).length > 0, `${id} has evidence`);
  check?.(a);
}

async function assertClear(app: OpsApp, id: string) {
  const a = await alert(app, id);
  assert.ok(!a.firing && !a.listed, `${id} is clear: ${JSON.stringify(a)}`);
}

Deno.test("the report has the contract's shape: every rule once, with severity, summary, value and threshold", async () => {
  await withApp({}, async (app) => {
    const report = await alerts(app);
    assert.ok(!Number.isNaN(Date.parse(report.evaluated_at)));
    const ids = report.alerts.map((a) => a.id);
    assert.deepEqual(ids, [
      "app_down",
      "webhooks_stopped",
      "webhook_error_rate",
      "webhook_processing_backlog",
      "webhook_processing_latency",
      "circuit_breaker_open",
      "reminder_failure_rate",
      "queue_depth",
      "queue_oldest_due",
      "cron_failures",
      "db_connections",
      "db_pool",
      "response_time",
    ]);
    for (const a of report.alerts) {
      assert.match(a.severity, /^P[0-3]$/);
      assert.equal(typeof a.summary, "string");
      assert.equal(typeof a.firing, "boolean");
      assert.equal(typeof a.threshold, "number");
      assert.equal(typeof a.evidence, "object");
    }
    assert.deepEqual(report.firing, report.alerts.filter((a) => a.firing).map((a) => a.id));
  });
});

Deno.test({
  name: "app_down (P0) fires while the database refuses connections and clears when it is back",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const proxy = new TcpProxy(databaseTarget());
    try {
      await withApp({ DATABASE_URL: proxy.url() }, async (app) => {
        await assertClear(app, "app_down");
        proxy.setMode("refuse");
        await assertFires(app, "app_down", (a) => {
          assert.equal(a.severity, "P0");
          assert.equal((a.evidence.database as { status: string }).status, "unavailable");
        });
        const report = await alerts(app);
        const skipped = report.alerts.find((a) => a.id === "queue_depth")!;
        assert.equal(skipped.value, null, "rules that need the database are not evaluated");
        assert.ok("skipped" in skipped.evidence);
        proxy.setMode("forward");
        await assertClear(app, "app_down");
      });
    } finally {
      await proxy.close();
    }
  },
});

Deno.test("webhooks_stopped (P0) fires after silence once webhooks flowed, clears when one arrives", async () => {
  await arranged(async (_sql, company) => {
    await withApp({ OPS_WEBHOOK_SILENCE_SECONDS: "2" }, async (app) => {
      await company.addEvent(0);
      await assertClear(app, "webhooks_stopped");
      let stopped = await alert(app, "webhooks_stopped");
      for (let i = 0; i < 40 && !stopped.firing; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        stopped = await alert(app, "webhooks_stopped");
      }
      await assertFires(app, "webhooks_stopped", (a) => {
        assert.equal(a.severity, "P0");
        assert.equal(a.threshold, 2);
        assert.ok(typeof a.evidence.last_received_at === "string");
      });
      await company.addEvent(0);
      await assertClear(app, "webhooks_stopped");
    });
  });
});

Deno.test("webhook_error_rate (P1) fires on rejected deliveries with enough volume, clears without them", async () => {
  await arranged(async (sql) => {
    const baseline = await withBaseline("webhook_error_rate");
    const deliveries = baseline.evidence.deliveries as number;
    // Today's deliveries stay under the minimum volume; the arranged ones push it over at a 50%+ rate.
    const overrides = { OPS_WEBHOOK_ERROR_RATE: "0.5", OPS_WEBHOOK_MIN_DELIVERIES: String(deliveries + 1) };
    const reason = `ops_test_${crypto.randomUUID().slice(0, 8)}`;
    await withApp(overrides, async (app) => {
      await assertClear(app, "webhook_error_rate");
      await sql`insert into public.webhook_counters (minute, kind, reason, count)
                values (date_trunc('minute', now()), 'rejected', ${reason}, ${deliveries + 1})`;
      await assertFires(app, "webhook_error_rate", (a) => {
        assert.equal(a.severity, "P1");
        assert.equal((a.evidence.rejected_by_reason as Record<string, number>)[reason], deliveries + 1);
      });
      await sql`delete from public.webhook_counters where reason = ${reason}`;
      await assertClear(app, "webhook_error_rate");
    });
  });
});

Deno.test("webhook_processing_backlog (P1) fires on an event processing should have taken, clears once it is processed", async () => {
  await arranged(async (sql, company) => {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
    const baseline = await withBaseline("webhook_processing_backlog");
    await withApp({ OPS_PROCESSING_STUCK_EVENTS: String(baseline.value ?? 0) }, async (app) => {
      await assertClear(app, "webhook_processing_backlog");
      const id = await company.addEvent(600, null);
      await assertFires(app, "webhook_processing_backlog", (a) => {
        assert.ok((a.evidence.oldest_stuck_age_seconds as number) >= 600);
      });
      // With processing off for everyone, waiting is expected: not stuck.
      await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: false });
      await assertClear(app, "webhook_processing_backlog");
      await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true });
      await sql`update public.events set processed_at = now() where id = ${id}`;
      await assertClear(app, "webhook_processing_backlog");
    });
  });
});

Deno.test("webhook_processing_latency (P1) fires when p95 received → processed is over, clears after", async () => {
  await arranged(async (sql, company) => {
    const baseline = await withBaseline("webhook_processing_latency");
    const threshold = Math.ceil((baseline.value ?? 0) + 600);
    const processed = (baseline.evidence.processed as number) ?? 0;
    await withApp({ OPS_PROCESSING_P95_SECONDS: String(threshold) }, async (app) => {
      await assertClear(app, "webhook_processing_latency");
      // More slow events than all others together: the p95 is one of them.
      for (let i = 0; i <= processed; i++) await company.addEvent(threshold + 900, threshold + 600);
      await assertFires(app, "webhook_processing_latency");
      await sql`delete from public.events where company_id = ${company.companyId}`;
      await assertClear(app, "webhook_processing_latency");
    });
  });
});

Deno.test("reminder_failure_rate (P2) fires when nudge attempts fail, clears when they are gone", async () => {
  await arranged(async (sql, company) => {
    const baseline = await withBaseline("reminder_failure_rate");
    const attempts = baseline.evidence.tries as number;
    const overrides = { OPS_REMINDER_FAILURE_RATE: "0.5", OPS_REMINDER_MIN_ATTEMPTS: String(attempts + 1) };
    await withApp(overrides, async (app) => {
      await assertClear(app, "reminder_failure_rate");
      await company.addDueJobs(1, 3600);
      await sql`update public.job_queue set status = 'dead' where company_id = ${company.companyId}`;
      await sql`
        insert into public.notification_attempts (job_id, company_id, status, http_status, error)
        select j.id, j.company_id, 'failed', 500, 'ops test' from public.job_queue j, generate_series(1, ${
        attempts + 1
      })
        where j.company_id = ${company.companyId}`;
      await assertFires(app, "reminder_failure_rate", (a) => {
        assert.equal(a.severity, "P2");
        const dm = (a.evidence.by_channel as Record<string, { failed: number }>).dm;
        assert.ok(dm.failed >= attempts + 1);
      });
      await sql`delete from public.notification_attempts where company_id = ${company.companyId}`;
      await assertClear(app, "reminder_failure_rate");
    });
  });
});

Deno.test("queue_depth and queue_oldest_due (P2) fire on a backed-up queue with the scheduler on, clear after", async () => {
  await arranged(async (sql, company) => {
    await setFlags(sql, { SCHEDULER_ENABLED: true, ROLLBACK_MODE: false });
    const baseline = await withBaseline("queue_depth");
    const depth = baseline.value as number;
    const oldest = (baseline.evidence.oldest_due_age_seconds as number | null) ?? 0;
    const overrides = {
      OPS_QUEUE_DEPTH: String(depth + 2),
      OPS_QUEUE_OLDEST_DUE_SECONDS: String(Math.ceil(oldest) + 3600),
    };
    await withApp(overrides, async (app) => {
      await assertClear(app, "queue_depth");
      await assertClear(app, "queue_oldest_due");
      await company.addDueJobs(3, Math.ceil(oldest) + 7200);
      await assertFires(app, "queue_depth", (a) => assert.equal(a.value, depth + 3));
      await assertFires(app, "queue_oldest_due", (a) => assert.equal(a.evidence.scheduler, "on"));
      await setFlags(sql, { SCHEDULER_ENABLED: false });
      await assertClear(app, "queue_depth");
      await setFlags(sql, { SCHEDULER_ENABLED: true });
      await sql`delete from public.job_queue where company_id = ${company.companyId}`;
      await assertClear(app, "queue_depth");
      await assertClear(app, "queue_oldest_due");
    });
  });
});

Deno.test("cron_failures (P2) fires on a failed pg_cron run in the last hour, clears when it is gone", async () => {
  await arranged(async (sql) => {
    const baseline = await withBaseline("cron_failures");
    await withApp({ OPS_CRON_FAILURES: String(baseline.value ?? 0) }, async (app) => {
      await assertClear(app, "cron_failures");
      const [run] = await sql<{ runid: number }[]>`
        insert into cron.job_run_details (jobid, runid, job_pid, database, username, command, status, return_message,
                                          start_time, end_time)
        select jobid, nextval('cron.runid_seq'), 0, 'postgres', 'postgres', command, 'failed',
               'ERROR: ops test failure for user@example.com', now() - interval '1 minute', now() - interval '1 minute'
        from cron.job where jobname = 'churn-saver-trim-cron-history'
        returning runid`;
      await assertFires(app, "cron_failures", (a) => {
        const jobs = a.evidence.failing_jobs as { job: string; last_message: string | null }[];
        const job = jobs.find((j) => j.job === "churn-saver-trim-cron-history");
        assert.ok(job, JSON.stringify(jobs));
        assert.ok(!JSON.stringify(jobs).includes("user@example.com"), "messages are redacted");
      });
      await sql`delete from cron.job_run_details where runid = ${run.runid}`;
      await assertClear(app, "cron_failures");
    });
  });
});

Deno.test("db_connections and db_pool (P2) fire when connections are taken, clear when they are released", async () => {
  const baseline = await withBaseline("db_connections");
  const { used, max } = baseline.evidence as { used: number; max: number };
  await withApp({ OPS_DB_CONNECTIONS_PERCENT: String(((used + 8) / max) * 100) }, async (app) => {
    await assertClear(app, "db_connections");
    await assertClear(app, "db_pool");
    const poolName =
      ((await alert(app, "db_pool")).evidence as { application_name: string }).application_name;
    // Connections that pg_stat_activity shows under this app's pool name fill its pool.
    const hog = postgres(stack.databaseUrl, {
      max: 20,
      onnotice: () => {},
      connection: { application_name: poolName },
    });
    const held = await Promise.all(Array.from({ length: 20 }, () => hog.reserve()));
    try {
      await Promise.all(held.map((c) => c`select 1`));
      await assertFires(app, "db_connections", (a) => assert.ok((a.evidence.used as number) >= used + 20));
      await assertFires(app, "db_pool", (a) => assert.equal(a.evidence.open, 20));
    } finally {
      held.forEach((c) => c.release());
      await hog.end();
    }
    await assertClear(app, "db_connections");
    await assertClear(app, "db_pool");
  });
});

Deno.test({
  name: "response_time (P3) fires when recent dashboard responses are slow, clears once they are fast again",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const proxy = new TcpProxy(databaseTarget());
    const overrides = {
      DATABASE_URL: proxy.url(),
      OPS_RESPONSE_P95_MS: "300",
      OPS_RESPONSE_MIN_SAMPLES: "3",
      OPS_RESPONSE_WINDOW_SECONDS: "3",
    };
    try {
      await withApp(overrides, async (app) => {
        await assertClear(app, "response_time");
        proxy.setMode("hang"); // each health check now waits for its deadline
        await Promise.all(
          Array.from({ length: 3 }, async () => await (await app.get("/api/health")).body?.cancel()),
        );
        proxy.setMode("forward");
        await assertFires(app, "response_time", (a) => {
          assert.equal(a.severity, "P3");
          assert.equal(a.evidence.samples, 3);
        });
        await new Promise((resolve) => setTimeout(resolve, 3100)); // the slow ones leave the window
        for (let i = 0; i < 5; i++) await (await app.get("/api/health")).body?.cancel();
        await assertClear(app, "response_time");
      });
    } finally {
      await proxy.close();
    }
  },
});

/** The alert as the default thresholds see the shared database now (its value and evidence). */
async function withBaseline(id: string) {
  const app = await opsApp();
  try {
    return await alert(app, id);
  } finally {
    await app.close();
  }
}
