// Ops health endpoints (ARCHITECTURE section 7, the rollout plan's paths): JSON with
// {"status": "ok" | "degraded" | "unavailable"}, 200 unless unavailable (503). No auth, no PII.
// Each judges its own dependency; the reasons say why a status is not ok.
import { type Context, Hono } from "hono";
import type { AppEnv } from "../../../supabase/functions/_shared/config.ts";
import { type Alert, alertById, type AlertReport, evaluateAlerts } from "../../ops/alerts.ts";
import { flagEffective, flagIs } from "../../ops/flags.ts";
import { type OpsContext, type Part, readSnapshot, type Snapshot } from "../../ops/snapshot.ts";

type Status = "ok" | "degraded" | "unavailable";

const NO_STORE = { "cache-control": "no-store" };

/** The worst status with the reasons of everything that is not ok. */
class Verdict {
  status: Status = "ok";
  reasons: string[] = [];
  add(status: Status, reason: string) {
    if (status === "ok") return;
    if (status === "unavailable" || this.status === "ok") this.status = status;
    this.reasons.push(reason);
  }
  /** Degraded for each of these alert rules that fires. */
  degradeOn(report: AlertReport, ids: string[]) {
    for (const id of ids) {
      const alert = alertById(report, id);
      if (alert.firing) this.add("degraded", `${alert.summary}: ${alert.value} > ${alert.threshold}`);
    }
  }
}

export function healthRoutes(ops: OpsContext, options: { appEnv: AppEnv }) {
  const routes = new Hono();

  const answer = (c: Context, verdict: Verdict, body: Record<string, unknown>) =>
    c.json(
      { status: verdict.status, ...(verdict.reasons.length ? { reasons: verdict.reasons } : {}), ...body },
      verdict.status === "unavailable" ? 503 : 200,
      NO_STORE,
    );

  /** The snapshot, with the database (and a failed read) already judged. */
  async function look(parts: Part[]) {
    const snapshot = await readSnapshot(ops, parts);
    const verdict = new Verdict();
    if (snapshot.database.status !== "ok") verdict.add("unavailable", "the database does not answer");
    else if (snapshot.read_error) verdict.add("unavailable", `the ops read failed (${snapshot.read_error})`);
    const alerts = evaluateAlerts(snapshot, ops.thresholds, ops.timings);
    return { snapshot, verdict, alerts };
  }

  routes.get("/api/health", async (c) => {
    const { snapshot, alerts } = await look(["flags", "webhooks", "queue", "breakers"]);
    const overall = new Verdict();
    // Only a dead database makes the application unavailable; the rest degrades it.
    if (snapshot.database.status !== "ok") overall.add("unavailable", "the database does not answer");
    else if (snapshot.read_error) overall.add("degraded", `the ops read failed (${snapshot.read_error})`);
    const flags = flagsCheck(snapshot);
    const webhooks = webhooksCheck(snapshot, alertById(alerts, "webhooks_stopped").firing);
    const scheduler = schedulerCheck(snapshot, ops);
    const delivery = deliveryCheck(snapshot, alertById(alerts, "circuit_breaker_open"));
    for (const check of snapshot.database.status === "ok" ? [flags, webhooks, scheduler, delivery] : []) {
      if (check.status !== "ok") overall.add("degraded", check.reasons.join("; "));
    }
    return answer(c, overall, {
      app_env: options.appEnv,
      checked_at: snapshot.checked_at,
      checks: {
        database: snapshot.database,
        flags: { status: flags.status, flags: snapshot.flags ?? null },
        webhooks: {
          status: webhooks.status,
          last_received_at: snapshot.webhooks?.last_received_at ?? null,
          last_age_seconds: snapshot.webhooks?.last_age_seconds ?? null,
          silence_threshold_seconds: ops.thresholds.webhookSilenceSeconds,
        },
        scheduler: {
          status: scheduler.status,
          lag_seconds: snapshot.queue?.oldest_due_age_seconds ?? null,
          queue_depth: snapshot.queue?.depth ?? null,
          lag_threshold_seconds: ops.thresholds.queueOldestDueSeconds,
        },
        delivery: {
          status: delivery.status,
          breakers:
            snapshot.breakers?.map(({ channel, state, not_closed_seconds, cooloff_seconds, stuck }) => ({
              channel,
              state,
              not_closed_seconds,
              cooloff_seconds,
              stuck,
            })) ?? null,
        },
      },
    });
  });

  routes.get("/api/health/db", async (c) => {
    const { snapshot, verdict, alerts } = await look(["db"]);
    if (snapshot.db) {
      verdict.degradeOn(alerts, ["db_connections", "db_pool"]);
      if (snapshot.database.latency_ms > ops.thresholds.dbLatencyMs) {
        verdict.add(
          "degraded",
          `round trip ${snapshot.database.latency_ms} ms > ${ops.thresholds.dbLatencyMs} ms`,
        );
      }
    }
    return answer(c, verdict, {
      checked_at: snapshot.checked_at,
      latency_ms: snapshot.database.latency_ms,
      ...(snapshot.database.status === "ok" ? {} : { error: snapshot.database.error }),
      pool: snapshot.db?.pool ?? null,
      connections: snapshot.db?.connections ?? null,
      thresholds: {
        connections_percent: ops.thresholds.dbConnectionsPercent,
        pool_percent: ops.thresholds.dbPoolPercent,
        latency_ms: ops.thresholds.dbLatencyMs,
      },
    });
  });

  routes.get("/api/health/webhooks", async (c) => {
    const { snapshot, verdict, alerts } = await look(["flags", "webhooks"]);
    if (snapshot.webhooks) {
      if (alertById(alerts, "webhooks_stopped").firing) {
        verdict.add("unavailable", `no webhook for ${snapshot.webhooks.last_age_seconds} s`);
      }
      verdict.degradeOn(alerts, [
        "webhook_error_rate",
        "webhook_processing_backlog",
        "webhook_processing_latency",
      ]);
    }
    const w = snapshot.webhooks;
    return answer(c, verdict, {
      checked_at: snapshot.checked_at,
      last_received_at: w?.last_received_at ?? null,
      last_age_seconds: w?.last_age_seconds ?? null,
      processing: flagEffective(snapshot, "WEBHOOK_PROCESSING_ENABLED"),
      last_hour: w?.last_hour ?? null,
      unprocessed: w?.unprocessed ?? null,
      thresholds: {
        silence_seconds: ops.thresholds.webhookSilenceSeconds,
        lookback_hours: ops.thresholds.webhookLookbackHours,
        error_rate: ops.thresholds.webhookErrorRate,
        min_deliveries: ops.thresholds.webhookMinDeliveries,
        processing_p95_seconds: ops.thresholds.processingP95Seconds,
        processing_backlog_seconds: ops.thresholds.processingBacklogSeconds,
      },
    });
  });

  routes.get("/api/scheduler/reminders", async (c) => {
    const { snapshot, verdict, alerts } = await look(["flags", "queue", "scheduler", "breakers"]);
    const scheduler = schedulerCheck(snapshot, ops);
    for (const reason of scheduler.reasons) verdict.add(scheduler.status, reason);
    if (snapshot.scheduler) verdict.degradeOn(alerts, ["reminder_failure_rate", "cron_failures"]);
    for (const breaker of snapshot.breakers ?? []) {
      if (breaker.state !== "closed") {
        verdict.add("degraded", `the ${breaker.channel} circuit breaker is ${breaker.state}`);
      }
    }
    const s = snapshot.scheduler;
    return answer(c, verdict, {
      checked_at: snapshot.checked_at,
      scheduler: flagEffective(snapshot, "SCHEDULER_ENABLED"),
      notifications: flagEffective(snapshot, "NOTIFICATIONS_ENABLED"),
      queue: snapshot.queue ?? null,
      cron: s?.cron ?? null,
      delivery_last_hour: s?.delivery_last_hour ?? null,
      delivery_total_last_hour: s?.delivery_total_last_hour ?? null,
      breakers: snapshot.breakers ?? null,
      thresholds: {
        queue_depth: ops.thresholds.queueDepth,
        oldest_due_seconds: ops.thresholds.queueOldestDueSeconds,
        reminder_failure_rate: ops.thresholds.reminderFailureRate,
        reminder_min_attempts: ops.thresholds.reminderMinAttempts,
        cron_failures: ops.thresholds.cronFailures,
      },
    });
  });

  return routes;
}

function flagsCheck(snapshot: Snapshot): Verdict {
  const verdict = new Verdict();
  if (!snapshot.flags) verdict.add("unavailable", "the flags could not be read");
  else if (flagIs(snapshot.flags, "ROLLBACK_MODE", "on")) {
    verdict.add("degraded", "ROLLBACK_MODE is on: processing and sending are stopped");
  }
  return verdict;
}

function webhooksCheck(snapshot: Snapshot, stopped: boolean): Verdict {
  const verdict = new Verdict();
  if (!snapshot.webhooks) verdict.add("unavailable", "webhook figures could not be read");
  if (stopped) verdict.add("degraded", `no webhook for ${snapshot.webhooks?.last_age_seconds} s`);
  return verdict;
}

/** Degraded while Whop fails: a breaker the probe did not close within its cool-off (the P1 alert). */
function deliveryCheck(snapshot: Snapshot, breakerAlert: Alert): Verdict {
  const verdict = new Verdict();
  if (!snapshot.breakers) verdict.add("unavailable", "the circuit breakers could not be read");
  for (const breaker of breakerAlert.firing ? snapshot.breakers ?? [] : []) {
    if (!breaker.stuck) continue;
    verdict.add(
      "degraded",
      `the ${breaker.channel} circuit breaker has been ${breaker.state} for ${breaker.not_closed_seconds} s ` +
        `(cool-off ${breaker.cooloff_seconds ?? "unknown"} s): Whop's API is failing`,
    );
  }
  return verdict;
}

/** A backed-up queue is unavailable while the scheduler is on; with it off, waiting jobs are expected. */
function schedulerCheck(snapshot: Snapshot, ops: OpsContext): Verdict {
  const verdict = new Verdict();
  const queue = snapshot.queue;
  if (!queue || !snapshot.flags) {
    verdict.add("unavailable", "the reminder queue could not be read");
    return verdict;
  }
  const reasons: string[] = [];
  if (queue.depth > ops.thresholds.queueDepth) {
    reasons.push(`${queue.depth} due jobs > ${ops.thresholds.queueDepth}`);
  }
  if ((queue.oldest_due_age_seconds ?? 0) > ops.thresholds.queueOldestDueSeconds) {
    reasons.push(
      `oldest due job waits ${queue.oldest_due_age_seconds} s > ${ops.thresholds.queueOldestDueSeconds} s`,
    );
  }
  const off = flagIs(snapshot.flags, "SCHEDULER_ENABLED", "off");
  for (const reason of reasons) {
    verdict.add(off ? "degraded" : "unavailable", off ? `${reason} (SCHEDULER_ENABLED is off)` : reason);
  }
  return verdict;
}
