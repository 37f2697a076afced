// What every edge function's app starts with: its configuration (failing at start when a variable
// is missing), a small database pool, the base path it is served under, error reporting (Sentry, when
// SENTRY_DSN is set), JSON errors and a health check.
import { Hono } from "hono";
import { type EnvReader, requireEnv } from "./config.ts";
import { createDb } from "./db.ts";
import { functionHealth } from "./health.ts";
import { handleError, handleNotFound } from "./http.ts";
import { registerSecrets } from "./log.ts";
import { errorReporting } from "./sentry.ts";

export function createFunctionApp<const K extends string>(
  name: string,
  env: EnvReader,
  required: readonly K[],
) {
  const config = requireEnv(env, ["SUPABASE_DB_URL", ...required]);
  registerSecrets(env);
  // Edge isolates are small and many: keep each one's pool small.
  const sql = createDb(config.SUPABASE_DB_URL, { max: 3, applicationName: name });

  // Supabase hands a function the path /<name>/...
  const app = new Hono().basePath(`/${name}`);
  app.use("*", errorReporting(name, env));
  app.onError(handleError);
  app.notFound(handleNotFound);
  app.get("/health", functionHealth(name, sql));

  return { app, sql, config, close: () => sql.end({ timeout: 5 }) };
}
