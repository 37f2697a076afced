// The dashboard server's Hono app: ops endpoints, the creator dashboard, tracked links, static files.
import { Hono } from "hono";
import { serveStatic } from "hono/deno";
import { ConfigError, type EnvReader, readAppEnv, requireEnv } from "../supabase/functions/_shared/config.ts";
import { createDb } from "../supabase/functions/_shared/db.ts";
import { loadKeyRing } from "../supabase/functions/_shared/crypto/pii.ts";
import { registerSecrets } from "../supabase/functions/_shared/log.ts";
import { errorReporting } from "../supabase/functions/_shared/sentry.ts";
import { createWhopClient } from "../supabase/functions/_shared/whop/client.ts";
import { handleErrorWithPages, notFoundWithPages } from "./lib/error_page.tsx";
import { readAllowedOrigins } from "./lib/cross_site.ts";
import { ExportSlots, readExportTimeouts } from "./lib/export_limits.ts";
import { installCompany, isCompanyInstalled } from "./lib/tenant.ts";
import { createWhopAuth } from "./lib/whop_auth.ts";
import { dashboardRoutes } from "./routes/dashboard/index.ts";
import { securityHeaders } from "./lib/security_headers.ts";
import { healthRoutes } from "./routes/ops/health.ts";
import { currentAlerts, metricsRoutes } from "./routes/ops/metrics.ts";
import { DEFAULT_EVALUATION_INTERVAL_SECONDS, startAlertNotifier } from "./ops/notifier.ts";
import { RequestTimings } from "./ops/request_timing.ts";
import type { OpsContext } from "./ops/snapshot.ts";
import { readThresholds } from "./ops/thresholds.ts";
import { devLoginRoutes } from "./routes/dev_login.tsx";
import { recoveryLinkRoutes } from "./routes/recovery_link.ts";
import { experienceRoutes } from "./routes/experience.tsx";

const POOL_MAX = 10;
/** Streamed CSV exports at once (one per company): pages always keep the rest of the pool. */
const EXPORT_SLOTS = 3;
const EXPORT_SLOTS_PER_COMPANY = 1;
const EXPORT_SLOT_WAIT_MS = 2000;
/** The ops endpoints' own small pool: a busy dashboard cannot starve health checks, nor they it. */
const OPS_POOL_MAX = 3;
const OPS_TOKEN_MIN_LENGTH = 16;

export async function createApp(env: EnvReader = Deno.env) {
  const config = requireEnv(env, [
    "DATABASE_URL",
    "LINK_SIGNING_KEY",
    "WHOP_JWKS_URL",
    "WHOP_APP_ID",
    "WHOP_API_KEY",
    "WHOP_API_BASE_URL",
    "ENCRYPTION_KEYS",
    "OPS_TOKEN",
  ]);
  registerSecrets(env);
  const appEnv = readAppEnv(env);
  if (config.OPS_TOKEN.length < OPS_TOKEN_MIN_LENGTH) {
    throw new ConfigError(
      `OPS_TOKEN must be at least ${OPS_TOKEN_MIN_LENGTH} characters (make one with: openssl rand -hex 24).`,
    );
  }
  const thresholds = readThresholds(env);
  const notifierConfig = readNotifierConfig(env);
  const allowedOrigins = readAllowedOrigins(env);
  const exportTimeouts = readExportTimeouts(env);
  const ring = await loadKeyRing(config.ENCRYPTION_KEYS);
  const whop = createWhopClient({
    baseUrl: config.WHOP_API_BASE_URL,
    apiKey: config.WHOP_API_KEY,
    appId: config.WHOP_APP_ID,
  });
  // Each process's pool has a name of its own, so /api/health/db can count its connections.
  const instance = crypto.randomUUID().slice(0, 8);
  const poolName = `dashboard ${instance}`;
  const sql = createDb(config.DATABASE_URL, { max: POOL_MAX, applicationName: poolName });
  const auth = createWhopAuth({
    jwksUrl: config.WHOP_JWKS_URL,
    appId: config.WHOP_APP_ID,
    whop,
    companyInstalled: (companyId) => isCompanyInstalled(sql, companyId),
    installCompany: (companyId) => installCompany(sql, companyId),
  });
  const exportSlots = new ExportSlots({
    total: EXPORT_SLOTS,
    perCompany: EXPORT_SLOTS_PER_COMPANY,
    waitMs: EXPORT_SLOT_WAIT_MS,
  });
  const opsSql = createDb(config.DATABASE_URL, {
    max: OPS_POOL_MAX,
    applicationName: `dashboard-ops ${instance}`,
  });
  const timings = new RequestTimings();
  const ops: OpsContext = {
    sql: opsSql,
    env,
    thresholds,
    pool: { applicationName: poolName, max: POOL_MAX },
    timings,
  };

  const app = new Hono();
  app.use("*", errorReporting("dashboard", env));
  app.onError(handleErrorWithPages);
  app.notFound(notFoundWithPages);
  app.use("*", timings.middleware());
  app.route("/", recoveryLinkRoutes(sql, config.LINK_SIGNING_KEY)); // first, to keep its no-referrer
  app.use("*", securityHeaders);
  app.route("/", healthRoutes(ops, { appEnv }));
  app.route("/", metricsRoutes(ops, config.OPS_TOKEN));
  app.route(
    "/",
    dashboardRoutes({
      sql,
      auth,
      whop,
      ring,
      appEnv,
      allowedOrigins,
      exports: { slots: exportSlots, timeouts: exportTimeouts },
    }),
  );
  app.route("/", experienceRoutes(sql, auth.identify));
  if (appEnv === "local") {
    app.route(
      "/",
      devLoginRoutes(sql, { whopApiBaseUrl: config.WHOP_API_BASE_URL, appId: config.WHOP_APP_ID }),
    );
    app.get("/", (c) => c.redirect("/dev/login"));
  }
  const staticRoot = new URL(".", import.meta.url).pathname;
  // Island bundles carry a content hash in their names (scripts/build_islands.ts): cached for good.
  app.use(
    "/static/islands/*",
    serveStatic({
      root: staticRoot,
      onFound: (path, c) => {
        const immutable = path.endsWith(".js"); // not the manifest
        c.header("cache-control", immutable ? "public, max-age=31536000, immutable" : "public, max-age=300");
      },
    }),
  );
  app.use(
    "/static/*",
    serveStatic({
      root: staticRoot,
      onFound: (_path, c) => c.header("cache-control", "public, max-age=300"),
    }),
  );

  const notifier = notifierConfig &&
    startAlertNotifier({ ...notifierConfig, evaluate: () => currentAlerts(ops), environment: appEnv });

  const close = async () => {
    await notifier?.stop();
    await Promise.all([sql.end({ timeout: 5 }), opsSql.end({ timeout: 5 })]);
  };
  return { app, appEnv, close };
}

/** The alert notifier runs only when ALERT_WEBHOOK_URL is set. */
function readNotifierConfig(env: EnvReader) {
  const url = env.get("ALERT_WEBHOOK_URL")?.trim();
  if (!url) return null;
  if (!/^https?:\/\/[^\s]+$/.test(url)) {
    throw new ConfigError("ALERT_WEBHOOK_URL must be an http(s) URL (a Slack-compatible incoming webhook).");
  }
  const raw = env.get("ALERT_EVALUATION_INTERVAL_SECONDS")?.trim();
  const seconds = raw ? Number(raw) : DEFAULT_EVALUATION_INTERVAL_SECONDS;
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new ConfigError(`ALERT_EVALUATION_INTERVAL_SECONDS must be a positive number, not "${raw}".`);
  }
  return { url, intervalMs: seconds * 1000 };
}
