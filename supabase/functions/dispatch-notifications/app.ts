// The dispatch-notifications function's Hono app. Called every minute by pg_cron (production) or
// the local stack runner, with the cron secret; the dispatcher itself arrives with the nudges issue.
import { Hono } from "hono";
import { requireBearer } from "../_shared/bearer.ts";
import { type EnvReader, requireEnv } from "../_shared/config.ts";
import { createDb } from "../_shared/db.ts";
import { functionHealth } from "../_shared/health.ts";
import { handleError, handleNotFound } from "../_shared/http.ts";

export const FUNCTION_NAME = "dispatch-notifications";

export function createApp(env: EnvReader = Deno.env) {
  const config = requireEnv(env, ["SUPABASE_DB_URL", "CRON_SECRET"]);
  const sql = createDb(config.SUPABASE_DB_URL, { max: 3, applicationName: FUNCTION_NAME });

  const app = new Hono().basePath(`/${FUNCTION_NAME}`);
  app.onError(handleError);
  app.notFound(handleNotFound);
  app.get("/health", functionHealth(FUNCTION_NAME, sql));
  app.use("*", requireBearer(config.CRON_SECRET, "CRON_SECRET"));

  return { app, close: () => sql.end({ timeout: 5 }) };
}
