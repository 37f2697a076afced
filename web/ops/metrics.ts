// /api/metrics: the rollout plan's business and technical figures in Prometheus text. Database figures
// are read at scrape time over fixed windows (gauges named with their window), totals across
// companies; request durations are an in-process histogram. Label sets come from fixed lists
// (statuses, reasons, channels, flags, pg_cron jobs, currencies), so the series count stays bounded.
import { FLAG_NAMES } from "../../supabase/functions/_shared/flag_env.ts";
import { CASE_REASONS, CASE_STATUSES } from "../queries/case_filters.ts";
import { evaluateAlerts } from "./alerts.ts";
import { Exposition } from "./prometheus.ts";
import { DURATION_BUCKETS_SECONDS, type RequestTimings } from "./request_timing.ts";
import { ATTEMPT_STATUSES, CHANNELS } from "./scheduler_stats.ts";
import type { Snapshot } from "./snapshot.ts";
import type { Thresholds } from "./thresholds.ts";

const P = "churn_saver_";
const FINAL_JOB_STATUSES = ["sent", "failed", "dead", "cancelled", "suppressed", "skipped"] as const;
const BREAKER_STATES = ["closed", "open", "half_open"] as const;
const FLAG_STATES = ["on", "partial", "off"] as const;

export function renderMetrics(
  core: Snapshot,
  business: Snapshot,
  t: Thresholds,
  timings: RequestTimings,
): string {
  const out = new Exposition();
  const up = core.database.status === "ok";
  out.family(`${P}database_up`, "gauge", "1 when the database answers a round trip, else 0.")
    .sample(`${P}database_up`, up ? 1 : 0);
  out.family(`${P}database_latency_seconds`, "gauge", "Duration of the last database round trip.")
    .sample(`${P}database_latency_seconds`, core.database.latency_ms / 1000);
  out.family(
    `${P}ops_read_ok`,
    "gauge",
    "1 when the ops figures below could be read, else 0 (they are left out).",
  )
    .sample(`${P}ops_read_ok`, up && !core.read_error && !business.read_error ? 1 : 0);

  technical(out, core);
  businessFigures(out, business);
  httpHistogram(out, timings);

  const alerts = evaluateAlerts(core, t, timings);
  out.family(`${P}alert_firing`, "gauge", "1 when the alert rule fires now (see /api/alerts for evidence).");
  for (const alert of alerts.alerts) {
    out.sample(`${P}alert_firing`, alert.firing ? 1 : 0, { alert: alert.id, severity: alert.severity });
  }
  return out.text();
}

function technical(out: Exposition, s: Snapshot) {
  if (s.db) {
    out.family(`${P}db_connections_used`, "gauge", "Client connections to the database server (all clients).")
      .sample(`${P}db_connections_used`, s.db.connections.used);
    out.family(`${P}db_connections_max`, "gauge", "The server's max_connections.")
      .sample(`${P}db_connections_max`, s.db.connections.max);
    out.family(
      `${P}db_pool_connections`,
      "gauge",
      "This dashboard process's pool connections, open and active.",
    )
      .sample(`${P}db_pool_connections`, s.db.pool.open, { state: "open" })
      .sample(`${P}db_pool_connections`, s.db.pool.active, { state: "active" });
    out.family(`${P}db_pool_size`, "gauge", "Size (max connections) of this dashboard process's pool.")
      .sample(`${P}db_pool_size`, s.db.pool.max);
  }
  if (s.flags) {
    out.family(`${P}feature_flag_enabled`, "gauge", "1 when the flag is enabled in public.feature_flags.");
    for (const flag of s.flags) {
      out.sample(`${P}feature_flag_enabled`, flag.enabled ? 1 : 0, { flag: flag.name });
    }
    out.family(`${P}feature_flag_rollout_percent`, "gauge", "The flag's rollout percentage of companies.");
    for (const flag of s.flags) {
      out.sample(`${P}feature_flag_rollout_percent`, flag.rollout_percent, { flag: flag.name });
    }
    out.family(
      `${P}feature_flag_state`,
      "gauge",
      "1 for the flag's effective state (table, rollback and environment).",
    );
    for (const flag of s.flags) {
      for (const state of FLAG_STATES) {
        out.sample(`${P}feature_flag_state`, flag.effective === state ? 1 : 0, { flag: flag.name, state });
      }
    }
    out.family(
      `${P}feature_flag_env_override`,
      "gauge",
      "1 when this process's environment forces the flag.",
    );
    for (const name of FLAG_NAMES) {
      const flag = s.flags.find((f) => f.name === name);
      out.sample(`${P}feature_flag_env_override`, flag?.env_override ? 1 : 0, { flag: name });
    }
  }
  if (s.webhooks) {
    const w = s.webhooks;
    out.family(
      `${P}webhook_last_received_age_seconds`,
      "gauge",
      "Seconds since the last webhook was received.",
    )
      .sample(`${P}webhook_last_received_age_seconds`, w.last_age_seconds);
    out.family(`${P}webhook_events_received_last_hour`, "gauge", "Webhook events stored in the last hour.")
      .sample(`${P}webhook_events_received_last_hour`, w.last_hour.stored);
    out.family(
      `${P}webhook_events_processed_last_hour`,
      "gauge",
      "Events received in the last hour and processed.",
    )
      .sample(`${P}webhook_events_processed_last_hour`, w.last_hour.processed);
    out.family(`${P}webhook_duplicates_last_hour`, "gauge", "Redeliveries of stored events in the last hour.")
      .sample(`${P}webhook_duplicates_last_hour`, w.last_hour.duplicates);
    out.family(
      `${P}webhook_rejections_last_hour`,
      "gauge",
      "Refused webhook deliveries in the last hour, by reason.",
    );
    for (const [reason, count] of Object.entries(w.last_hour.rejected_by_reason).sort()) {
      out.sample(`${P}webhook_rejections_last_hour`, count, { reason });
    }
    out.family(
      `${P}webhook_processing_latency_seconds`,
      "gauge",
      "Received to processed, over events received in the last hour, by quantile.",
    );
    for (const [quantile, key] of [["0.5", "p50"], ["0.95", "p95"], ["0.99", "p99"]] as const) {
      out.sample(`${P}webhook_processing_latency_seconds`, w.last_hour.processing_latency_seconds[key], {
        quantile,
      });
    }
    out.family(`${P}webhook_events_unprocessed`, "gauge", "Stored events not processed (yet), all of them.")
      .sample(`${P}webhook_events_unprocessed`, w.unprocessed.total);
    out.family(
      `${P}webhook_events_stuck`,
      "gauge",
      "Unprocessed events whose processing is on, older than the threshold.",
    )
      .sample(`${P}webhook_events_stuck`, w.unprocessed.stuck);
  }
  if (s.queue) {
    const q = s.queue;
    out.family(
      `${P}queue_depth`,
      "gauge",
      "Due nudge jobs not yet sent (pending and due, or with an expired lease).",
    )
      .sample(`${P}queue_depth`, q.depth);
    out.family(`${P}queue_oldest_due_age_seconds`, "gauge", "Age of the oldest due job not yet sent.")
      .sample(`${P}queue_oldest_due_age_seconds`, q.oldest_due_age_seconds ?? 0);
    out.family(`${P}queue_jobs`, "gauge", "Jobs waiting (pending, due or not) and claimed.")
      .sample(`${P}queue_jobs`, q.pending, { status: "pending" })
      .sample(`${P}queue_jobs`, q.claimed, { status: "claimed" });
  }
  if (s.breakers) {
    out.family(`${P}circuit_breaker_state`, "gauge", "1 for each channel's current circuit breaker state.");
    for (const breaker of s.breakers) {
      for (const state of BREAKER_STATES) {
        out.sample(`${P}circuit_breaker_state`, breaker.state === state ? 1 : 0, {
          channel: breaker.channel,
          state,
        });
      }
    }
    out.family(
      `${P}circuit_breaker_not_closed_seconds`,
      "gauge",
      "Seconds since the channel's breaker left closed, through re-opens (0 while closed).",
    );
    for (const breaker of s.breakers) {
      out.sample(`${P}circuit_breaker_not_closed_seconds`, breaker.not_closed_seconds ?? 0, {
        channel: breaker.channel,
      });
    }
  }
  if (s.scheduler) {
    out.family(
      `${P}job_attempts_last_hour`,
      "gauge",
      "Delivery attempts in the last hour, by channel and outcome.",
    );
    for (const channel of CHANNELS) {
      for (const status of ATTEMPT_STATUSES) {
        out.sample(`${P}job_attempts_last_hour`, s.scheduler.delivery_last_hour[channel].attempts[status], {
          channel,
          status,
        });
      }
    }
    out.family(
      `${P}delivery_success_rate_last_hour`,
      "gauge",
      "Delivered ÷ tries (sent, retried, failed, dead attempts) in the last hour, by channel and all (absent without a try).",
    );
    for (const channel of CHANNELS) {
      out.sample(
        `${P}delivery_success_rate_last_hour`,
        s.scheduler.delivery_last_hour[channel].success_rate,
        {
          channel,
        },
      );
    }
    out.sample(`${P}delivery_success_rate_last_hour`, s.scheduler.delivery_total_last_hour.success_rate, {
      channel: "all",
    });
    out.family(`${P}cron_job_failures_last_hour`, "gauge", "Failed pg_cron runs in the last hour, by job.");
    for (const job of s.scheduler.cron.jobs) {
      out.sample(`${P}cron_job_failures_last_hour`, job.failures_last_hour, { job: job.job });
    }
    out.family(
      `${P}cron_job_last_run_succeeded`,
      "gauge",
      "1 when the job's latest pg_cron run succeeded, else 0.",
    );
    for (const job of s.scheduler.cron.jobs) {
      if (job.last_status && job.last_status !== "running" && job.last_status !== "starting") {
        out.sample(`${P}cron_job_last_run_succeeded`, job.last_status === "succeeded" ? 1 : 0, {
          job: job.job,
        });
      }
    }
  }
}

function businessFigures(out: Exposition, s: Snapshot) {
  const b = s.business;
  if (!b) return;
  const count = <T extends Record<string, unknown>>(rows: (T & { count: number })[], match: Partial<T>) =>
    rows.filter((row) => Object.entries(match).every(([key, value]) => row[key] === value))
      .reduce((sum, row) => sum + row.count, 0);

  out.family(
    `${P}cases`,
    "gauge",
    "Recovery cases stored now, by status and reason (closed ones until retention).",
  );
  out.family(`${P}cases_opened_last_24h`, "gauge", "Recovery cases opened in the last 24 hours, by reason.");
  out.family(
    `${P}cases_closed_last_24h`,
    "gauge",
    "Recovery cases closed in the last 24 hours, by outcome and reason.",
  );
  for (const reason of CASE_REASONS) {
    for (const status of CASE_STATUSES) {
      out.sample(`${P}cases`, count(b.cases, { status, reason }), { status, reason });
    }
    out.sample(`${P}cases_opened_last_24h`, count(b.opened_24h, { reason }), { reason });
    for (const status of CASE_STATUSES.filter((st) => st !== "open")) {
      out.sample(`${P}cases_closed_last_24h`, count(b.closed_24h, { status, reason }), { status, reason });
    }
  }
  out.family(
    `${P}recovered_revenue_last_24h_minor_units`,
    "gauge",
    "Revenue of cases recovered in the last 24 hours, in minor units (cents), by currency.",
  );
  for (const row of b.recovered_revenue_24h) {
    out.sample(`${P}recovered_revenue_last_24h_minor_units`, row.amount_minor, { currency: row.currency });
  }
  out.family(
    `${P}recovery_rate_30d`,
    "gauge",
    "Recovered ÷ (recovered + lost + expired) of cases closed in the last 30 days (absent without any).",
  ).sample(
    `${P}recovery_rate_30d`,
    b.recovery_rate_30d.decided > 0 ? b.recovery_rate_30d.recovered / b.recovery_rate_30d.decided : null,
  );
  out.family(
    `${P}nudges_last_24h`,
    "gauge",
    "Nudge jobs finished in the last 24 hours, by channel and outcome.",
  );
  for (const channel of CHANNELS) {
    for (const status of FINAL_JOB_STATUSES) {
      out.sample(`${P}nudges_last_24h`, count(b.nudges_24h, { channel, status }), { channel, status });
    }
  }
  out.family(`${P}link_clicks_last_24h`, "gauge", "Clicks on tracked recovery links in the last 24 hours.")
    .sample(`${P}link_clicks_last_24h`, count(b.link_clicks_24h, { bot: false }), { kind: "human" })
    .sample(`${P}link_clicks_last_24h`, count(b.link_clicks_24h, { bot: true }), { kind: "bot" });
}

function httpHistogram(out: Exposition, timings: RequestTimings) {
  const name = `${P}http_request_duration_seconds`;
  out.family(name, "histogram", "Dashboard response times since the process started, by route group.");
  for (const series of timings.histogram()) {
    const labels = { group: series.group, status_class: series.status_class };
    DURATION_BUCKETS_SECONDS.forEach((le, i) => {
      out.sample(`${name}_bucket`, series.buckets[i], { ...labels, le: String(le) });
    });
    out.sample(`${name}_bucket`, series.count, { ...labels, le: "+Inf" });
    out.sample(`${name}_sum`, series.sum_seconds, labels);
    out.sample(`${name}_count`, series.count, labels);
  }
}
