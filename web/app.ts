// The dashboard server's Hono app: ops endpoints, the creator dashboard, tracked links, static files.
import { Hono } from "hono";
import { serveStatic } from "hono/deno";
import { type EnvReader, readAppEnv, requireEnv } from "../supabase/functions/_shared/config.ts";
import { createDb } from "../supabase/functions/_shared/db.ts";
import { loadKeyRing } from "../supabase/functions/_shared/crypto/pii.ts";
import { handleNotFound } from "../supabase/functions/_shared/http.ts";
import { registerSecrets } from "../supabase/functions/_shared/log.ts";
import { errorReporting } from "../supabase/functions/_shared/sentry.ts";
import { createWhopClient } from "../supabase/functions/_shared/whop/client.ts";
import { handleErrorWithPages } from "./lib/error_page.tsx";
import { createWhopAuth } from "./lib/whop_auth.ts";
import { dashboardRoutes } from "./routes/dashboard/index.ts";
import { securityHeaders } from "./lib/security_headers.ts";
import { healthRoutes } from "./routes/api_health.ts";
import { devLoginRoutes } from "./routes/dev_login.tsx";
import { recoveryLinkRoutes } from "./routes/recovery_link.ts";

const POOL_MAX = 10;

export async function createApp(env: EnvReader = Deno.env) {
  const config = requireEnv(env, [
    "DATABASE_URL",
    "LINK_SIGNING_KEY",
    "WHOP_JWKS_URL",
    "WHOP_APP_ID",
    "WHOP_API_KEY",
    "WHOP_API_BASE_URL",
    "ENCRYPTION_KEYS",
  ]);
  registerSecrets(env);
  const appEnv = readAppEnv(env);
  const ring = await loadKeyRing(config.ENCRYPTION_KEYS);
  const whop = createWhopClient({
    baseUrl: config.WHOP_API_BASE_URL,
    apiKey: config.WHOP_API_KEY,
    appId: config.WHOP_APP_ID,
  });
  const auth = createWhopAuth({ jwksUrl: config.WHOP_JWKS_URL, appId: config.WHOP_APP_ID, whop });
  const sql = createDb(config.DATABASE_URL, { max: POOL_MAX, applicationName: "dashboard" });

  const app = new Hono();
  app.use("*", errorReporting("dashboard", env));
  app.onError(handleErrorWithPages);
  app.notFound(handleNotFound);
  app.route("/", recoveryLinkRoutes(sql, config.LINK_SIGNING_KEY)); // first, to keep its no-referrer
  app.use("*", securityHeaders);
  app.route("/", healthRoutes(sql, { appEnv, poolMax: POOL_MAX }));
  app.route("/", dashboardRoutes({ sql, auth, whop, ring, appEnv }));
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

  return { app, appEnv, close: () => sql.end({ timeout: 5 }) };
}
