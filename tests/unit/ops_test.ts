// Units of the ops endpoints: the Prometheus writer's escaping, the request timing ring and histogram,
// thresholds from the environment, flag overrides, the notifier's message, start-up configuration, and
// how fast the default configuration pages for a Whop outage.
import assert from "node:assert/strict";
import { envFlagOverride } from "../../supabase/functions/_shared/flag_env.ts";
import { createApp } from "../../web/app.ts";
import { evaluateAlerts } from "../../web/ops/alerts.ts";
import type { FlagState } from "../../web/ops/flags.ts";
import { alertMessage, DEFAULT_EVALUATION_INTERVAL_SECONDS } from "../../web/ops/notifier.ts";
import type { BreakerState } from "../../web/ops/scheduler_stats.ts";
import { escapeHelp, escapeLabelValue, Exposition, formatValue } from "../../web/ops/prometheus.ts";
import { RequestTimings, routeGroup } from "../../web/ops/request_timing.ts";
import { readThresholds, THRESHOLD_VARIABLES } from "../../web/ops/thresholds.ts";
import { parseExposition, sampleValue } from "../support/ops.ts";

const env = (values: Record<string, string>) => new Map(Object.entries(values));

Deno.test("label values escape backslash, quote and newline; HELP escapes backslash and newline", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(escapeHelp('x\\y\nz "q"'), 'x\\\\y\\nz "q"');
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(formatValue(0.25), "0.25");

  const text = new Exposition()
    .family("m_total", "counter", "Help with a \\ and\na newline.")
    .sample("m_total", 3, { job: 'we"ird\\\nname', other: "" })
    .sample("m_total", null, { job: "left out" })
    .text();
  assert.equal(
    text,
    '# HELP m_total Help with a \\\\ and\\na newline.\n# TYPE m_total counter\nm_total{job="we\\"ird\\\\\\nname",other=""} 3\n',
  );
  const parsed = parseExposition(text);
  assert.equal(sampleValue(parsed, "m_total", { job: 'we"ird\\\nname' }), 3);
  assert.equal(parsed.help.get("m_total"), "Help with a \\ and\na newline.");
  assert.throws(() => new Exposition().family("bad-name", "gauge", "x"), /invalid metric name/);
  assert.throws(() => new Exposition().family("m", "gauge", "x").family("m", "gauge", "x"), /twice/);
  assert.throws(() => new Exposition().sample("m", 1, { "bad-label": "x" }), /invalid label name/);
});

Deno.test("request timings: bounded ring, percentiles over the window without ops scrapes, cumulative histogram", () => {
  const timings = new RequestTimings(100);
  const now = Date.now();
  for (let i = 1; i <= 250; i++) timings.record("dashboard", 200, i, now); // only the last 100 are kept
  timings.record("ops", 200, 99_999, now); // scrapes never count toward the response-time alert
  const recent = timings.recent(60, now);
  assert.equal(recent.samples, 99);
  assert.equal(recent.p50_ms, 201);
  assert.equal(recent.p95_ms, 246); // the 95th of 99 values 152..250
  assert.equal(timings.recent(60, now + 61_000).samples, 0);

  const [dashboard] = timings.histogram().filter((series) => series.group === "dashboard");
  assert.equal(dashboard.count, 250, "the histogram counts every request since start");
  assert.equal(dashboard.status_class, "2xx");
  assert.equal(dashboard.buckets[0], 5, "le 0.005 s: the requests of 1..5 ms");
  assert.equal(dashboard.buckets.at(-1), 250);

  assert.equal(routeGroup("/dashboard/biz_1/cases"), "dashboard");
  assert.equal(routeGroup("/api/health/db"), "health");
  assert.equal(routeGroup("/api/scheduler/reminders"), "health");
  assert.equal(routeGroup("/api/metrics"), "ops");
  assert.equal(routeGroup("/r/abc.def"), "link");
  assert.equal(routeGroup("/static/app.css"), "static");
  assert.equal(routeGroup("/nope"), "other");
});

Deno.test("thresholds: defaults, overrides by their variables, and a clear error for a bad value", () => {
  const defaults = readThresholds(env({}));
  assert.equal(defaults.webhookSilenceSeconds, 600);
  assert.equal(defaults.queueOldestDueSeconds, 900);
  assert.equal(readThresholds(env({ OPS_WEBHOOK_SILENCE_SECONDS: "30" })).webhookSilenceSeconds, 30);
  assert.throws(() => readThresholds(env({ OPS_QUEUE_DEPTH: "many" })), /OPS_QUEUE_DEPTH must be a number/);
  assert.throws(() => readThresholds(env({ OPS_DB_POOL_PERCENT: "-1" })), /OPS_DB_POOL_PERCENT/);
  for (const [key, { variable, default: fallback }] of Object.entries(THRESHOLD_VARIABLES)) {
    assert.match(variable, /^OPS_[A-Z0-9_]+$/);
    assert.equal(defaults[key as keyof typeof defaults], fallback);
  }
});

Deno.test("the environment can only force processing off, and ROLLBACK_MODE=true forces all of it off", () => {
  assert.equal(envFlagOverride(env({}), "SCHEDULER_ENABLED"), null);
  assert.equal(envFlagOverride(env({ SCHEDULER_ENABLED: "true" }), "SCHEDULER_ENABLED"), null);
  assert.equal(envFlagOverride(env({ SCHEDULER_ENABLED: "false" }), "SCHEDULER_ENABLED"), "forced_off");
  assert.equal(envFlagOverride(env({ ROLLBACK_MODE: "true" }), "NOTIFICATIONS_ENABLED"), "forced_off");
  assert.equal(envFlagOverride(env({ ROLLBACK_MODE: "true" }), "ROLLBACK_MODE"), "forced_on");
  assert.equal(envFlagOverride(env({ ROLLBACK_MODE: "false" }), "ROLLBACK_MODE"), null);
});

Deno.test("the notifier's message names the rule, its state and figures, nothing else", () => {
  const message = alertMessage({
    id: "queue_depth",
    severity: "P2",
    summary: "Reminder queue backed up",
    firing: true,
    value: 1200,
    threshold: 1000,
    evidence: { company: "biz_secret", email: "someone@example.com" },
  }, "production");
  assert.equal(
    message,
    "[P2] FIRING queue_depth (production): Reminder queue backed up. Value 1200, threshold 1000.",
  );
});

Deno.test("the dashboard refuses to start without OPS_TOKEN, with a short one, or with a bad notifier setting", async () => {
  const base = {
    DATABASE_URL: "postgres://x",
    LINK_SIGNING_KEY: "k",
    WHOP_JWKS_URL: "http://x/jwks",
    WHOP_APP_ID: "app_x",
    WHOP_API_KEY: "key",
    WHOP_API_BASE_URL: "http://x/api/v1",
    ENCRYPTION_KEYS: `k1:${btoa(String.fromCharCode(...new Uint8Array(32).fill(3)))}`,
  };
  await assert.rejects(() => createApp(env(base)), /Missing required configuration: OPS_TOKEN/);
  await assert.rejects(
    () => createApp(env({ ...base, OPS_TOKEN: "short" })),
    /OPS_TOKEN must be at least 16/,
  );
  const ok = { ...base, OPS_TOKEN: "0123456789abcdef" };
  await assert.rejects(
    () => createApp(env({ ...ok, ALERT_WEBHOOK_URL: "slack" })),
    /ALERT_WEBHOOK_URL must be/,
  );
  await assert.rejects(
    () =>
      createApp(
        env({ ...ok, ALERT_WEBHOOK_URL: "https://hooks.example/x", ALERT_EVALUATION_INTERVAL_SECONDS: "0" }),
      ),
    /ALERT_EVALUATION_INTERVAL_SECONDS/,
  );
  await assert.rejects(() => createApp(env({ ...ok, OPS_RESPONSE_P95_MS: "fast" })), /OPS_RESPONSE_P95_MS/);
});

/** A default read from the source that applies it (the dispatcher's and pg_cron's are not exported). */
async function sourceDefault(path: string, pattern: RegExp): Promise<string> {
  const text = await Deno.readTextFile(new URL(`../../${path}`, import.meta.url));
  const found = pattern.exec(text)?.[1];
  assert.ok(found, `${path}: no match for ${pattern}`);
  return found;
}

Deno.test("the default configuration pages a full Whop outage (P1) within 5 minutes", async () => {
  const dispatchApp = "supabase/functions/dispatch-notifications/app.ts";
  const dispatchDefault = async (name: string) =>
    Number((await sourceDefault(dispatchApp, new RegExp(`"${name}",\\s*([\\d_]+)\\)`))).replaceAll("_", ""));
  const cooloff = await dispatchDefault("DISPATCH_BREAKER_COOLOFF_SECONDS");
  const roundSeconds = await dispatchDefault("DISPATCH_MAX_SECONDS");
  const breakerThreshold = await dispatchDefault("DISPATCH_BREAKER_THRESHOLD");
  const batchSize = await dispatchDefault("DISPATCH_BATCH_SIZE");
  let schedule = "";
  const migrations = new URL("../../supabase/migrations/", import.meta.url);
  for (const name of [...Deno.readDirSync(migrations)].map((entry) => entry.name).sort()) {
    const text = Deno.readTextFileSync(new URL(name, migrations));
    schedule = /cron\.schedule\('churn-saver-dispatch', '([^']+)'/.exec(text)?.[1] ?? schedule;
  }
  assert.equal(schedule, "* * * * *", "pg_cron runs a dispatch round every minute");
  const cadence = 60;

  // Worst case: the outage begins just after a round; the next one starts a cadence later and opens
  // the breaker within its time budget (its first `breakerThreshold` sends fail, a batch holds more);
  // the rule fires once the breaker stays open past its cool-off (pgTAP 021: kept through failed
  // probes); the notifier evaluates at its interval.
  assert.ok(breakerThreshold <= batchSize, "one round's batch is enough to open the breaker");
  const worstCaseSeconds = cadence + roundSeconds + cooloff + DEFAULT_EVALUATION_INTERVAL_SECONDS;
  assert.ok(worstCaseSeconds <= 300, `a page after at most ${worstCaseSeconds} s`);

  // The rule itself adds no window of its own: a breaker stuck past its cool-off fires at once, P1,
  // with the default thresholds and the scheduler on, and only then.
  const flag = (name: FlagState["name"], effective: FlagState["effective"]): FlagState => ({
    name,
    enabled: effective !== "off",
    rollout_percent: 100,
    allowlist_size: 0,
    env_override: null,
    effective,
    updated_at: null,
  });
  const breaker = (channel: string, stuck: boolean): BreakerState => ({
    channel,
    state: stuck ? "open" : "closed",
    consecutive_failures: stuck ? 9 : 0,
    retry_at: null,
    not_closed_since: stuck ? new Date().toISOString() : null,
    not_closed_seconds: stuck ? cooloff + 1 : null,
    cooloff_seconds: stuck ? cooloff : null,
    stuck,
  });
  const snapshot = (scheduler: FlagState["effective"], breakers: BreakerState[]) => ({
    checked_at: new Date().toISOString(),
    database: { status: "ok" as const, latency_ms: 1 },
    flags: [flag("SCHEDULER_ENABLED", scheduler), flag("ROLLBACK_MODE", "off")],
    breakers,
  });
  const rule = (s: ReturnType<typeof snapshot>) =>
    evaluateAlerts(s, readThresholds(env({})), new RequestTimings(10)).alerts
      .find((a) => a.id === "circuit_breaker_open")!;
  const outage = rule(
    snapshot("on", [breaker("push", true), breaker("dm", true), breaker("incentive", false)]),
  );
  assert.deepEqual([outage.severity, outage.firing, outage.value], ["P1", true, 2]);
  assert.equal(rule(snapshot("on", [breaker("push", false)])).firing, false, "closed breakers: quiet");
  assert.equal(
    rule(snapshot("off", [breaker("push", true)])).firing,
    false,
    "the scheduler off: nobody probes, so an open breaker waits on purpose",
  );
});
