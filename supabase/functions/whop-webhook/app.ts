// The whop-webhook function's Hono app. Receives Whop webhooks (ARCHITECTURE section 7); the
// ingest itself arrives with the ingest issue: for now it serves its health check.
import { Hono } from "hono";
import { type EnvReader, requireEnv } from "../_shared/config.ts";
import { createDb } from "../_shared/db.ts";
import { functionHealth } from "../_shared/health.ts";
import { handleError, handleNotFound } from "../_shared/http.ts";

export const FUNCTION_NAME = "whop-webhook";

export function createApp(env: EnvReader = Deno.env) {
  const config = requireEnv(env, ["SUPABASE_DB_URL", "WHOP_WEBHOOK_SECRET"]);
  const sql = createDb(config.SUPABASE_DB_URL, { max: 3, applicationName: FUNCTION_NAME });

  const app = new Hono().basePath(`/${FUNCTION_NAME}`);
  app.onError(handleError);
  app.notFound(handleNotFound);
  app.get("/health", functionHealth(FUNCTION_NAME, sql));

  return { app, close: () => sql.end({ timeout: 5 }) };
}
