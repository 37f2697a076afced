// The whop-webhook function's Hono app. Receives Whop webhooks (ARCHITECTURE section 7); the
// ingest itself arrives with the ingest issue: for now it serves its health check.
import type { EnvReader } from "../_shared/config.ts";
import { createFunctionApp } from "../_shared/function_app.ts";

export const FUNCTION_NAME = "whop-webhook";

export function createApp(env: EnvReader = Deno.env) {
  const { app, close } = createFunctionApp(FUNCTION_NAME, env, ["WHOP_WEBHOOK_SECRET"]);
  return { app, close };
}
