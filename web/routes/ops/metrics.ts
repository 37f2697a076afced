// /api/metrics (Prometheus text) and /api/alerts (the P0–P3 rules with evidence), both behind
// `Authorization: Bearer $OPS_TOKEN` (compared in constant time). They answer 200 even when the
// database is down: the figures say so (database_up 0, app_down firing).
import { Hono } from "hono";
import { requireBearer } from "../../../supabase/functions/_shared/bearer.ts";
import { evaluateAlerts } from "../../ops/alerts.ts";
import { renderMetrics } from "../../ops/metrics.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../../ops/prometheus.ts";
import { type OpsContext, readSnapshot } from "../../ops/snapshot.ts";

/** Everything the alert rules read. */
export const ALERT_PARTS = ["flags", "db", "webhooks", "queue", "scheduler", "breakers"] as const;

export async function currentAlerts(ops: OpsContext) {
  return evaluateAlerts(await readSnapshot(ops, ALERT_PARTS), ops.thresholds, ops.timings);
}

export function metricsRoutes(ops: OpsContext, opsToken: string) {
  const routes = new Hono();
  const auth = requireBearer(opsToken, "OPS_TOKEN");

  routes.get("/api/metrics", auth, async (c) => {
    const core = await readSnapshot(ops, ALERT_PARTS);
    // Business figures in a read of their own, so a slow one cannot cost the technical ones.
    const business = await readSnapshot(ops, core.database.status === "ok" ? ["business"] : []);
    return c.body(renderMetrics(core, business, ops.thresholds, ops.timings), 200, {
      "content-type": PROMETHEUS_CONTENT_TYPE,
      "cache-control": "no-store",
    });
  });

  routes.get("/api/alerts", auth, async (c) => {
    return c.json(await currentAlerts(ops), 200, { "cache-control": "no-store" });
  });

  return routes;
}
