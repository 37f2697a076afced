// The dispatch-notifications function's Hono app. Called every minute by pg_cron (production) or
// the local stack runner, with the cron secret; the dispatcher itself arrives with the nudges issue.
import { requireBearer } from "../_shared/bearer.ts";
import type { EnvReader } from "../_shared/config.ts";
import { createFunctionApp } from "../_shared/function_app.ts";

export const FUNCTION_NAME = "dispatch-notifications";

export function createApp(env: EnvReader = Deno.env) {
  const { app, config, close } = createFunctionApp(FUNCTION_NAME, env, ["CRON_SECRET"]);
  app.use("*", requireBearer(config.CRON_SECRET, "CRON_SECRET"));
  return { app, close };
}
