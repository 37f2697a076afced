// /api/metrics: refused without the ops token; otherwise Prometheus text (HELP and TYPE for every
// family, label values escaped) whose values match the database.
import assert from "node:assert/strict";
import {
  connectAsOwner,
  databaseTarget,
  opsApp,
  opsCompany,
  parseExposition,
  sampleValue,
  stackVar,
  TcpProxy,
} from "../support/ops.ts";
import { stack } from "../support/stack.ts";

Deno.test("/api/metrics and /api/alerts refuse a missing or wrong token with 401 JSON", async () => {
  const app = await opsApp();
  try {
    const token = stackVar("OPS_TOKEN");
    for (const path of ["/api/metrics", "/api/alerts"]) {
      for (const wrong of [null, "wrong", token.slice(0, -1), `${token}x`]) {
        const { status, body } = await app.json(path, wrong);
        assert.equal(status, 401, `${path} with ${wrong === null ? "no token" : "a wrong token"}`);
        assert.equal((body.error as { code: string }).code, "unauthorized");
        assert.match((body.error as { message: string }).message, /OPS_TOKEN/);
      }
      assert.equal((await app.get(path)).status, 200);
    }
  } finally {
    await app.close();
  }
});

Deno.test("the running dashboard serves /api/metrics over HTTP with the exposition content type", async () => {
  const response = await fetch(`${stack.dashboardUrl}/api/metrics`, {
    headers: { authorization: `Bearer ${stackVar("OPS_TOKEN")}` },
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const parsed = parseExposition(await response.text());
  assert.equal(sampleValue(parsed, "churn_saver_database_up"), 1);
});

Deno.test("metric values match the database; every family has HELP and TYPE; label values are escaped", async () => {
  const sql = connectAsOwner();
  const company = await opsCompany(sql);
  const app = await opsApp();
  // A pg_cron job whose name needs escaping (quote, backslash, newline) shows the label path end to end.
  const oddJob = `ops "test" \\ job\nline2 ${company.companyId}`;
  try {
    await sql`select cron.schedule(${oddJob}, '0 0 1 1 *', 'select 1')`;
    await sql`
      insert into public.recovery_cases (company_id, membership_id, reason, status, opened_at, closed_at, attribution,
                                         recovered_amount_minor, currency)
      values (${company.companyId}, 'mem_ops_rec', 'cancel_scheduled', 'recovered', now() - interval '2 hours', now(),
              'organic', 4200, 'eur')`;
    await company.addDueJobs(2, 60);
    // A delivered try and a retried one: the dm channel has a success rate to show.
    await sql`
      insert into public.notification_attempts (job_id, company_id, status)
      select j.id, j.company_id, a.status from public.job_queue j, (values ('sent'), ('retry')) a (status)
      where j.company_id = ${company.companyId} limit 2`;
    await sql`
      insert into public.link_clicks (company_id, case_id, is_bot) values
        (${company.companyId}, ${company.caseId}, false), (${company.companyId}, ${company.caseId}, true)`;

    const response = await app.get("/api/metrics");
    assert.equal(response.status, 200);
    const text = await response.text();
    const parsed = parseExposition(text);

    // Every sample belongs to a declared family (histogram samples by their base name).
    for (const sample of parsed.samples) {
      const family = sample.name.replace(/_(bucket|sum|count)$/, "");
      const name = parsed.type.has(sample.name) ? sample.name : family;
      assert.ok(parsed.type.has(name), `TYPE for ${sample.name}`);
      assert.ok(parsed.help.has(name), `HELP for ${sample.name}`);
    }
    assert.equal(parsed.type.get("churn_saver_http_request_duration_seconds"), "histogram");
    assert.ok(
      text.includes(`job="ops \\"test\\" \\\\ job\\nline2 ${company.companyId}"`),
      "escaped in the text",
    );
    assert.equal(sampleValue(parsed, "churn_saver_cron_job_failures_last_hour", { job: oddJob }), 0);

    assert.equal(sampleValue(parsed, "churn_saver_database_up"), 1);
    assert.equal(sampleValue(parsed, "churn_saver_ops_read_ok"), 1);

    const counts = await sql<{ status: string; reason: string; count: number }[]>`
      select status, reason, count(*)::int as count from public.recovery_cases group by status, reason`;
    for (const row of counts) {
      assert.equal(
        sampleValue(parsed, "churn_saver_cases", { status: row.status, reason: row.reason }),
        row.count,
        `${row.status}/${row.reason}`,
      );
    }
    const [opened] = await sql<{ count: number }[]>`
      select count(*)::int as count from public.recovery_cases
      where reason = 'cancel_scheduled' and opened_at > now() - interval '24 hours'`;
    assert.ok(opened.count >= 1);
    assert.equal(
      sampleValue(parsed, "churn_saver_cases_opened_last_24h", { reason: "cancel_scheduled" }),
      opened.count,
    );
    const [eur] = await sql<{ sum: string }[]>`
      select sum(recovered_amount_minor) as sum from public.recovery_cases
      where status = 'recovered' and currency = 'eur' and closed_at > now() - interval '24 hours'`;
    assert.equal(
      sampleValue(parsed, "churn_saver_recovered_revenue_last_24h_minor_units", { currency: "eur" }),
      Number(eur.sum),
    );
    const [rate] = await sql<{ rate: number }[]>`
      select (count(*) filter (where status = 'recovered'))::float8
             / count(*) filter (where status in ('recovered', 'lost', 'expired')) as rate
      from public.recovery_cases where closed_at > now() - interval '30 days'`;
    assert.ok(Math.abs(sampleValue(parsed, "churn_saver_recovery_rate_30d") - rate.rate) < 1e-9);

    const [queue] = await sql<{ depth: number }[]>`
      select count(*)::int as depth from public.job_queue
      where (status = 'pending' and scheduled_for <= now()) or (status = 'claimed' and lease_expires_at <= now())`;
    assert.ok(queue.depth >= 2);
    assert.equal(sampleValue(parsed, "churn_saver_queue_depth"), queue.depth);

    const clicks = await sql<{ bot: boolean; count: number }[]>`
      select is_bot as bot, count(*)::int as count from public.link_clicks
      where clicked_at > now() - interval '24 hours' group by is_bot`;
    for (const row of clicks) {
      assert.equal(
        sampleValue(parsed, "churn_saver_link_clicks_last_24h", { kind: row.bot ? "bot" : "human" }),
        row.count,
      );
    }

    const flags = await sql<{ name: string; enabled: boolean; rollout_percent: number }[]>`
      select name, enabled, rollout_percent from public.feature_flags`;
    for (const flag of flags) {
      assert.equal(
        sampleValue(parsed, "churn_saver_feature_flag_enabled", { flag: flag.name }),
        flag.enabled ? 1 : 0,
      );
      assert.equal(
        sampleValue(parsed, "churn_saver_feature_flag_rollout_percent", { flag: flag.name }),
        flag.rollout_percent,
      );
    }
    const breakers = await sql<
      { channel: string; state: string }[]
    >`select channel, state from public.circuit_breakers`;
    for (const breaker of breakers) {
      assert.equal(
        sampleValue(parsed, "churn_saver_circuit_breaker_state", {
          channel: breaker.channel,
          state: breaker.state,
        }),
        1,
      );
    }
    // Delivery success as SQL defines it, the figure the alerts and `rollout verify` judge too.
    const delivery = await sql<{ channel: string; success_rate: number | null }[]>`
      select channel, success_rate from public.ops_delivery_figures(now() - interval '1 hour')`;
    assert.ok(delivery.some((row) => row.channel === "dm" && row.success_rate !== null));
    for (const row of delivery) {
      const samples = parsed.samples.filter((sample) =>
        sample.name === "churn_saver_delivery_success_rate_last_hour" && sample.labels.channel === row.channel
      );
      if (row.success_rate === null) assert.equal(samples.length, 0, `${row.channel}: absent without a try`);
      else assert.equal(samples[0]?.value, row.success_rate, row.channel);
    }
    for (const breaker of breakers) {
      assert.ok(
        sampleValue(parsed, "churn_saver_circuit_breaker_not_closed_seconds", { channel: breaker.channel }) >=
          0,
      );
    }
    const [hour] = await sql<{ stored: number; duplicates: number }[]>`
      select (select count(*)::int from public.events where received_at > now() - interval '1 hour') as stored,
             (select coalesce(sum(count), 0)::int from public.webhook_counters
              where kind = 'duplicate' and minute > date_trunc('minute', now()) - interval '1 hour') as duplicates`;
    assert.equal(sampleValue(parsed, "churn_saver_webhook_events_received_last_hour"), hour.stored);
    assert.equal(sampleValue(parsed, "churn_saver_webhook_duplicates_last_hour"), hour.duplicates);
    const [connections] = await sql<{ max: number }[]>`select current_setting('max_connections')::int as max`;
    assert.equal(sampleValue(parsed, "churn_saver_db_connections_max"), connections.max);
    assert.equal(sampleValue(parsed, "churn_saver_alert_firing", { alert: "app_down", severity: "P0" }), 0);

    // The histogram counts this app's own requests: the scrape above is one of the "ops" group.
    const again = parseExposition(await (await app.get("/api/metrics")).text());
    const scrapes = sampleValue(again, "churn_saver_http_request_duration_seconds_count", {
      group: "ops",
      status_class: "2xx",
    });
    assert.equal(scrapes, 1);
    assert.equal(
      sampleValue(again, "churn_saver_http_request_duration_seconds_bucket", {
        group: "ops",
        status_class: "2xx",
        le: "+Inf",
      }),
      1,
    );
  } finally {
    await app.close();
    await sql`select cron.unschedule(${oddJob})`;
    await company.cleanup();
    await sql.end();
  }
});

Deno.test({
  name: "with the database down /api/metrics still answers: database_up 0 and the in-process figures",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const proxy = new TcpProxy(databaseTarget());
    const app = await opsApp({ DATABASE_URL: proxy.url() });
    try {
      proxy.setMode("refuse");
      await app.get("/api/health"); // one request for the histogram
      const response = await app.get("/api/metrics");
      assert.equal(response.status, 200);
      const parsed = parseExposition(await response.text());
      assert.equal(sampleValue(parsed, "churn_saver_database_up"), 0);
      assert.equal(sampleValue(parsed, "churn_saver_ops_read_ok"), 0);
      assert.equal(sampleValue(parsed, "churn_saver_alert_firing", { alert: "app_down", severity: "P0" }), 1);
      assert.equal(
        sampleValue(parsed, "churn_saver_http_request_duration_seconds_count", {
          group: "health",
          status_class: "5xx",
        }),
        1,
      );
      assert.ok(
        !parsed.samples.some((s) => s.name === "churn_saver_cases"),
        "no database figures are made up",
      );
    } finally {
      await app.close();
      await proxy.close();
    }
  },
});
