// The dispatch-notifications function's Hono app (ARCHITECTURE section 7). Called every minute by
// pg_cron (production) or the local stack runner, with `Authorization: Bearer $CRON_SECRET`; runs
// one bounded dispatch round and answers its counts; 503 when its database fails mid-round.
import { ConfigError, type EnvReader, readAppEnv, readPositiveNumber } from "../_shared/config.ts";
import { loadKeyRing } from "../_shared/crypto/pii.ts";
import { requireBearer } from "../_shared/bearer.ts";
import { createFunctionApp } from "../_shared/function_app.ts";
import { badRequest, HttpError, serviceUnavailable } from "../_shared/http.ts";
import { log } from "../_shared/log.ts";
import { createWhopClient } from "../_shared/whop/client.ts";
import { type DispatchOptions, dispatchRound } from "./dispatcher.ts";
import { envFlagOverride } from "../_shared/flag_env.ts";

export const FUNCTION_NAME = "dispatch-notifications";

export interface AppOptions {
  /** How the Whop client reaches Whop (the dispatch benchmark answers in-process); default fetch. */
  whopFetch?: typeof fetch;
}

export async function createApp(env: EnvReader = Deno.env, appOptions: AppOptions = {}) {
  const { app, sql, config, close } = createFunctionApp(FUNCTION_NAME, env, [
    "CRON_SECRET",
    "WHOP_API_KEY",
    "WHOP_API_BASE_URL",
    "ENCRYPTION_KEYS",
    "LINK_SIGNING_KEY",
    "DASHBOARD_URL",
  ]);
  const appEnv = readAppEnv(env);
  const ring = await loadKeyRing(config.ENCRYPTION_KEYS);
  const timeoutMs = readPositiveNumber(env, "WHOP_TIMEOUT_MS", 10_000);
  const whop = createWhopClient({
    baseUrl: config.WHOP_API_BASE_URL,
    apiKey: config.WHOP_API_KEY,
    appId: env.get("WHOP_APP_ID"),
    timeoutMs,
    fetch: appOptions.whopFetch,
  });
  const options: DispatchOptions = {
    batchSize: readPositiveNumber(env, "DISPATCH_BATCH_SIZE", 100),
    concurrency: readPositiveNumber(env, "DISPATCH_CONCURRENCY", 8),
    leaseSeconds: readPositiveNumber(env, "DISPATCH_LEASE_SECONDS", 120),
    maxSeconds: readPositiveNumber(env, "DISPATCH_MAX_SECONDS", 25),
    retry: {
      maxAttempts: readPositiveNumber(env, "DISPATCH_MAX_ATTEMPTS", 5),
      baseSeconds: readPositiveNumber(env, "DISPATCH_RETRY_BASE_SECONDS", 30),
      maxBackoffSeconds: readPositiveNumber(env, "DISPATCH_RETRY_MAX_SECONDS", 3600),
    },
    breakerThreshold: readPositiveNumber(env, "DISPATCH_BREAKER_THRESHOLD", 5),
    breakerCooloffSeconds: readPositiveNumber(env, "DISPATCH_BREAKER_COOLOFF_SECONDS", 30),
    callTimeoutMs: timeoutMs,
  };
  // A call that may act starts with a whole lease ahead of it: the call and its recording must fit.
  if (options.leaseSeconds * 1000 < 2 * timeoutMs) {
    throw new ConfigError(
      `DISPATCH_LEASE_SECONDS (${options.leaseSeconds}) must be at least twice WHOP_TIMEOUT_MS ` +
        `(${timeoutMs} ms): a job's lease has to outlast the Whop call it covers and its recording.`,
    );
  }
  // An environment variable can only force the scheduler off (ARCHITECTURE section 6).
  const schedulerAllowed = envFlagOverride(env, "SCHEDULER_ENABLED") !== "forced_off";

  app.use("*", requireBearer(config.CRON_SECRET, "CRON_SECRET"));
  app.post("/", async (c) => {
    // A fixed `now` lets local tests send later nudges without waiting days; never in production.
    const body = await c.req.json().catch(() => ({})) as { now?: unknown };
    let now: Date | undefined;
    if (body?.now !== undefined) {
      if (appEnv !== "local") throw badRequest("`now` is only accepted when APP_ENV=local.");
      now = new Date(String(body.now));
      if (Number.isNaN(now.getTime())) throw badRequest("`now` must be an ISO 8601 time.");
    }
    if (!schedulerAllowed) return c.json({ scheduler: "off", claimed: 0 });
    const started = performance.now();
    const counts = await dispatchRound(sql, {
      whop,
      ring,
      linkSigningKey: config.LINK_SIGNING_KEY,
      dashboardUrl: config.DASHBOARD_URL,
      now: () => now ?? new Date(),
    }, { ...options, now }).catch(roundFailure);
    return c.json({ ...counts, duration_ms: Math.round(performance.now() - started) });
  });

  return { app, close };
}

/**
 * A round its database stopped (unreachable, connection lost, shutting down, out of resources)
 * answers 503 so the caller runs it again later. Nothing is lost: a job whose outcome was not
 * recorded is still claimed, and is claimed again once its lease runs out; a call that may have
 * reached Whop is checked there first (unknown_outcome.ts). Anything else stays a 500.
 */
function roundFailure(error: unknown): never {
  if (!(error instanceof HttpError) && databaseUnavailable(error)) {
    log.warn("dispatch round stopped: database unavailable", { error });
    throw serviceUnavailable(
      "The database is unavailable; the round stopped and its jobs go out in a later round.",
    );
  }
  throw error;
}

/** postgres.js gives connection problems a code of its own (CONNECTION_CLOSED, CONNECT_TIMEOUT,
 * ECONNREFUSED, ...) and server errors their SQLSTATE: 08 connection, 53 resources, 57 operator
 * intervention (shutdown, statement timeout), 40 rollback (serialization, deadlock). */
function databaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || code === "") return false;
  if (!/^[0-9A-Z]{5}$/.test(code)) return true;
  return /^(08|53|57|40)/.test(code);
}
