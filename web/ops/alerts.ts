// The rollout plan's P0–P3 alert rules, evaluated on one snapshot. Every rule fires when its value is
// above its threshold (thresholds.ts). A rule that cannot be evaluated (the database is down, so only
// app_down can tell) has value null and does not fire; the notifier keeps its previous state.
import { flagEffective, flagIs } from "./flags.ts";
import type { RequestTimings } from "./request_timing.ts";
import type { QueueStats } from "./scheduler_stats.ts";
import type { Snapshot } from "./snapshot.ts";
import type { Thresholds } from "./thresholds.ts";

export type Severity = "P0" | "P1" | "P2" | "P3";

export interface Alert {
  id: string;
  severity: Severity;
  summary: string;
  firing: boolean;
  value: number | null;
  threshold: number;
  evidence: Record<string, unknown>;
}

export interface AlertReport {
  evaluated_at: string;
  firing: string[];
  alerts: Alert[];
}

interface Rule {
  id: string;
  severity: Severity;
  summary: string;
  threshold: (t: Thresholds) => number;
  /** The value and its evidence, or null when the snapshot lacks what the rule needs. */
  measure: (s: Snapshot, t: Thresholds, timings: RequestTimings) =>
    | {
      value: number | null;
      evidence: Record<string, unknown>;
      /** A rule may hold back although the value is over (too little traffic, scheduler off). */
      applies?: boolean;
    }
    | null
    | undefined;
}

const RULES: Rule[] = [
  {
    id: "app_down",
    severity: "P0",
    summary: "Application down: the database does not answer",
    threshold: () => 0,
    measure: (s) => ({ value: s.database.status === "ok" ? 0 : 1, evidence: { database: s.database } }),
  },
  {
    id: "webhooks_stopped",
    severity: "P0",
    summary: "Webhooks stopped: none received for longer than the threshold, after they had been arriving",
    threshold: (t) => t.webhookSilenceSeconds,
    measure: (s, t) =>
      s.webhooks && {
        value: s.webhooks.last_age_seconds,
        applies: s.webhooks.silent,
        evidence: {
          last_received_at: s.webhooks.last_received_at,
          lookback_hours: t.webhookLookbackHours,
          note:
            "counts only when a webhook arrived within the lookback (a new or idle install is not stopped)",
        },
      },
  },
  {
    id: "webhook_error_rate",
    severity: "P1",
    summary:
      "Webhook error rate: share of deliveries rejected in the last hour (signatures, malformed, rate limits)",
    threshold: (t) => t.webhookErrorRate,
    measure: (s, t) => {
      if (!s.webhooks) return null;
      const hour = s.webhooks.last_hour;
      return {
        value: hour.rejection_rate,
        applies: hour.deliveries >= t.webhookMinDeliveries,
        evidence: {
          deliveries: hour.deliveries,
          rejected: hour.rejected,
          rejected_by_reason: hour.rejected_by_reason,
          signature_failures: hour.signature_failures,
          signature_failure_rate: hour.signature_failure_rate,
          min_deliveries: t.webhookMinDeliveries,
        },
      };
    },
  },
  {
    id: "webhook_processing_backlog",
    severity: "P1",
    summary: "Webhook processing stuck: events that processing should have taken are still waiting",
    threshold: (t) => t.processingStuckEvents,
    measure: (s, t) =>
      s.webhooks && {
        value: s.webhooks.unprocessed.stuck,
        evidence: {
          oldest_stuck_age_seconds: s.webhooks.unprocessed.oldest_stuck_age_seconds,
          waiting_longer_than_seconds: t.processingBacklogSeconds,
          unprocessed_total: s.webhooks.unprocessed.total,
          hint: "deno task reprocess --since <time> processes the backlog",
        },
      },
  },
  {
    id: "webhook_processing_latency",
    severity: "P1",
    summary: "Webhook processing slow: p95 of received → processed over the last hour, in seconds",
    threshold: (t) => t.processingP95Seconds,
    measure: (s) =>
      s.webhooks && {
        value: s.webhooks.last_hour.processing_latency_seconds.p95,
        evidence: {
          processed: s.webhooks.last_hour.processed,
          latency_seconds: s.webhooks.last_hour.processing_latency_seconds,
        },
      },
  },
  {
    // A Whop outage: the breaker opened and its probe did not close it within one cool-off (or
    // the probe itself is stuck). P1 because nothing reaches members on that channel meanwhile.
    id: "circuit_breaker_open",
    severity: "P1",
    summary:
      "Whop API failing: channels whose circuit breaker has stayed open or half-open longer than its cool-off",
    threshold: () => 0,
    measure: (s) => {
      if (!s.breakers || !s.flags) return null;
      const stuck = s.breakers.filter((breaker) => breaker.stuck);
      return {
        value: stuck.length,
        // Nobody probes while the scheduler is off: an open breaker then waits on purpose.
        applies: !flagIs(s.flags, "SCHEDULER_ENABLED", "off"),
        evidence: {
          stuck_channels: stuck.map((breaker) => breaker.channel),
          breakers: s.breakers,
          scheduler: flagEffective(s, "SCHEDULER_ENABLED"),
          hint: 'RUNBOOK "Whop API failing, circuit open"',
        },
      };
    },
  },
  {
    id: "reminder_failure_rate",
    severity: "P2",
    summary:
      "Reminder failure rate: share of nudge tries in the last hour that did not deliver (retried, failed or dead)",
    threshold: (t) => t.reminderFailureRate,
    measure: (s, t) => {
      if (!s.scheduler) return null;
      const total = s.scheduler.delivery_total_last_hour;
      const byChannel = Object.fromEntries(
        Object.entries(s.scheduler.delivery_last_hour).map(([channel, delivery]) => [channel, {
          ...delivery.attempts,
          tries: delivery.tries,
          success_rate: delivery.success_rate,
        }]),
      );
      return {
        value: total.failure_rate,
        applies: total.tries >= t.reminderMinAttempts,
        evidence: {
          tries: total.tries,
          failed: total.tries - total.attempts.sent,
          success_rate: total.success_rate,
          by_channel: byChannel,
          min_attempts: t.reminderMinAttempts,
        },
      };
    },
  },
  {
    id: "queue_depth",
    severity: "P2",
    summary: "Reminder queue backed up: due nudges not yet sent",
    threshold: (t) => t.queueDepth,
    measure: (s) => measureQueue(s, (queue) => queue.depth),
  },
  {
    id: "queue_oldest_due",
    severity: "P2",
    summary: "Reminder queue lagging: age of the oldest due nudge not yet sent, in seconds",
    threshold: (t) => t.queueOldestDueSeconds,
    measure: (s) => measureQueue(s, (queue) => queue.oldest_due_age_seconds),
  },
  {
    id: "cron_failures",
    severity: "P2",
    summary: "pg_cron jobs failing: failed runs in the last hour",
    threshold: (t) => t.cronFailures,
    measure: (s) =>
      s.scheduler && {
        value: s.scheduler.cron.failures_last_hour,
        evidence: {
          failing_jobs: s.scheduler.cron.jobs.filter((job) => job.failures_last_hour > 0).map((job) => ({
            job: job.job,
            failures_last_hour: job.failures_last_hour,
            last_status: job.last_status,
            last_message: job.last_message,
          })),
        },
      },
  },
  {
    id: "db_connections",
    severity: "P2",
    summary: "Database connections: share of max_connections in use, in percent",
    threshold: (t) => t.dbConnectionsPercent,
    measure: (s) => s.db && { value: s.db.connections.percent, evidence: { ...s.db.connections } },
  },
  {
    id: "db_pool",
    severity: "P2",
    summary: "Dashboard database pool: share of its connections open, in percent",
    threshold: (t) => t.dbPoolPercent,
    measure: (s) => s.db && { value: s.db.pool.percent, evidence: { ...s.db.pool } },
  },
  {
    id: "response_time",
    severity: "P3",
    summary: "Dashboard response time: p95 over the recent window, in milliseconds",
    threshold: (t) => t.responseP95Ms,
    measure: (_s, t, timings) => {
      const recent = timings.recent(t.responseWindowSeconds);
      return {
        value: recent.p95_ms,
        applies: recent.samples >= t.responseMinSamples,
        evidence: { ...recent, min_samples: t.responseMinSamples },
      };
    },
  },
];

export const ALERT_IDS = RULES.map((rule) => rule.id);

export function evaluateAlerts(snapshot: Snapshot, t: Thresholds, timings: RequestTimings): AlertReport {
  const alerts = RULES.map((rule): Alert => {
    const threshold = rule.threshold(t);
    const measured = rule.measure(snapshot, t, timings);
    const base = { id: rule.id, severity: rule.severity, summary: rule.summary, threshold };
    if (!measured) {
      return {
        ...base,
        firing: false,
        value: null,
        evidence: { skipped: snapshot.read_error ?? "the database is unavailable" },
      };
    }
    const firing = measured.value !== null && measured.value > threshold && measured.applies !== false;
    return { ...base, firing, value: measured.value, evidence: measured.evidence };
  });
  return {
    evaluated_at: snapshot.checked_at,
    firing: alerts.filter((alert) => alert.firing).map((alert) => alert.id),
    alerts,
  };
}

/** Queue rules hold back while the scheduler is off: jobs then wait on purpose. */
function measureQueue(s: Snapshot, value: (queue: QueueStats) => number | null) {
  if (!s.queue || !s.flags) return null;
  return {
    value: value(s.queue),
    applies: !flagIs(s.flags, "SCHEDULER_ENABLED", "off"),
    evidence: { ...s.queue, scheduler: flagEffective(s, "SCHEDULER_ENABLED") },
  };
}

/** The alert with this id (for health endpoints that share a rule's judgement). */
export const alertById = (report: AlertReport, id: string) => report.alerts.find((alert) => alert.id === id)!;
