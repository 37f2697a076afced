// Every number the ops endpoints judge by, in one place (README, "Operations: health, metrics,
// alerts", lists them). Each can be overridden by the environment variable named next to it. The
// rollout CLI's criteria on the same figures take their numbers from here (scripts/rollout/thresholds.ts).
import { ConfigError, type EnvReader } from "../../supabase/functions/_shared/config.ts";

const DEFAULTS = {
  /** Webhooks count as stopped after this long without one... */
  webhookSilenceSeconds: ["OPS_WEBHOOK_SILENCE_SECONDS", 600],
  /** ...but only when one arrived within this many hours (a new or idle install is not "stopped"). */
  webhookLookbackHours: ["OPS_WEBHOOK_LOOKBACK_HOURS", 24],
  /** Share of deliveries in the last hour that were rejected (signature, malformed, rate limited). */
  webhookErrorRate: ["OPS_WEBHOOK_ERROR_RATE", 0.05],
  /** Fewer deliveries than this in the last hour: too few to judge a rate. */
  webhookMinDeliveries: ["OPS_WEBHOOK_MIN_DELIVERIES", 20],
  /** p95 of received → processed over the last hour. */
  processingP95Seconds: ["OPS_PROCESSING_P95_SECONDS", 60],
  /** An event that processing should have taken (its flag is on) and is older than this is stuck. */
  processingBacklogSeconds: ["OPS_PROCESSING_BACKLOG_SECONDS", 300],
  /** How many such stuck events are tolerated (any is a problem by default). */
  processingStuckEvents: ["OPS_PROCESSING_STUCK_EVENTS", 0],
  /** Share of nudge tries in the last hour that did not deliver (retried, failed, dead:
   * public.ops_delivery_figures). Its complement is `rollout verify`'s delivery success criterion. */
  reminderFailureRate: ["OPS_REMINDER_FAILURE_RATE", 0.05],
  reminderMinAttempts: ["OPS_REMINDER_MIN_ATTEMPTS", 10],
  /** Due jobs not yet sent (pending, or claimed with an expired lease). */
  queueDepth: ["OPS_QUEUE_DEPTH", 1000],
  /** Age of the oldest due job not yet sent. */
  queueOldestDueSeconds: ["OPS_QUEUE_OLDEST_DUE_SECONDS", 900],
  /** Failed pg_cron runs in the last hour above this count. */
  cronFailures: ["OPS_CRON_FAILURES", 0],
  /** Server connections in use, percent of max_connections. */
  dbConnectionsPercent: ["OPS_DB_CONNECTIONS_PERCENT", 80],
  /** The dashboard's own pool: connections open, percent of its size. */
  dbPoolPercent: ["OPS_DB_POOL_PERCENT", 90],
  /** A database round trip slower than this makes /api/health/db degraded. */
  dbLatencyMs: ["OPS_DB_LATENCY_MS", 500],
  /** Dashboard responses: p95 over the window, once there are enough samples. */
  responseP95Ms: ["OPS_RESPONSE_P95_MS", 1500],
  responseMinSamples: ["OPS_RESPONSE_MIN_SAMPLES", 20],
  responseWindowSeconds: ["OPS_RESPONSE_WINDOW_SECONDS", 300],
  /** How long one ops read may take (statement timeout), so every endpoint answers in ~2 s. */
  queryTimeoutMs: ["OPS_QUERY_TIMEOUT_MS", 1500],
} as const satisfies Record<string, readonly [string, number]>;

export type Thresholds = { -readonly [K in keyof typeof DEFAULTS]: number };

export function readThresholds(env: EnvReader): Thresholds {
  const entries = Object.entries(DEFAULTS).map(([key, [name, fallback]]) => {
    const raw = env.get(name)?.trim();
    if (!raw) return [key, fallback];
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) {
      throw new ConfigError(`${name} must be a number of at least 0, not "${raw}".`);
    }
    return [key, value];
  });
  return Object.fromEntries(entries) as Thresholds;
}

/** The variable and default of each threshold, for documentation and the alerts' evidence. */
export const THRESHOLD_VARIABLES = Object.fromEntries(
  Object.entries(DEFAULTS).map(([key, [name, fallback]]) => [key, { variable: name, default: fallback }]),
) as Record<keyof Thresholds, { variable: string; default: number }>;
