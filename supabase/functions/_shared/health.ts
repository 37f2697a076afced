// The health answer every edge function gives at GET /<name>/health: 200 when its database
// answers, 503 otherwise (so load balancers and the rollout CLI can tell).
import type { Context } from "hono";
import { checkDb, type Sql } from "./db.ts";

export function functionHealth(functionName: string, sql: Sql) {
  return async (c: Context) => {
    const database = await checkDb(sql);
    const healthy = database.status === "ok";
    return c.json(
      { status: healthy ? "ok" : "unavailable", function: functionName, checks: { database } },
      healthy ? 200 : 503,
      { "cache-control": "no-store" },
    );
  };
}
