// Ops health endpoints (ARCHITECTURE section 7): JSON, 200 healthy / 503 unhealthy, bounded queries.
import { Hono } from "hono";
import type { AppEnv } from "../../supabase/functions/_shared/config.ts";
import { checkDb, describeDbError, type Sql } from "../../supabase/functions/_shared/db.ts";

const NO_STORE = { "cache-control": "no-store" };

export function healthRoutes(sql: Sql, options: { appEnv: AppEnv; poolMax: number }) {
  const routes = new Hono();

  routes.get("/api/health", async (c) => {
    const database = await checkDb(sql);
    const healthy = database.status === "ok";
    return c.json(
      { status: healthy ? "ok" : "unavailable", app_env: options.appEnv, checks: { database } },
      healthy ? 200 : 503,
      NO_STORE,
    );
  });

  routes.get("/api/health/db", async (c) => {
    const database = await checkDb(sql);
    if (database.status !== "ok") return c.json(database, 503, NO_STORE);
    try {
      const [row] = await sql<{ used: number; max: number }[]>`
        select count(*)::int as used, current_setting('max_connections')::int as max from pg_stat_activity`;
      return c.json(
        {
          status: "ok",
          latency_ms: database.latency_ms,
          pool: { max: options.poolMax },
          connections: {
            used: row.used,
            max: row.max,
            percent: Math.round((row.used / row.max) * 1000) / 10,
          },
        },
        200,
        NO_STORE,
      );
    } catch (error) {
      return c.json({ status: "unavailable", error: describeDbError(error) }, 503, NO_STORE);
    }
  });

  return routes;
}
