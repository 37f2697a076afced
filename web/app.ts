// The dashboard server's Hono app: ops endpoints, (later) the creator dashboard, static files.
import { Hono } from "hono";
import { serveStatic } from "hono/deno";
import { type EnvReader, readAppEnv, requireEnv } from "../supabase/functions/_shared/config.ts";
import { createDb } from "../supabase/functions/_shared/db.ts";
import { handleError, handleNotFound } from "../supabase/functions/_shared/http.ts";
import { securityHeaders } from "./lib/security_headers.ts";
import { healthRoutes } from "./routes/api_health.ts";
import { devLoginRoutes } from "./routes/dev_login.tsx";
import { recoveryLinkRoutes } from "./routes/recovery_link.ts";

const POOL_MAX = 10;

export function createApp(env: EnvReader = Deno.env) {
  const config = requireEnv(env, ["DATABASE_URL", "LINK_SIGNING_KEY"]);
  const appEnv = readAppEnv(env);
  const sql = createDb(config.DATABASE_URL, { max: POOL_MAX, applicationName: "dashboard" });

  const app = new Hono();
  app.onError(handleError);
  app.notFound(handleNotFound);
  app.route("/", recoveryLinkRoutes(sql, config.LINK_SIGNING_KEY)); // first, to keep its no-referrer
  app.use("*", securityHeaders);
  app.route("/", healthRoutes(sql, { appEnv, poolMax: POOL_MAX }));
  if (appEnv === "local") {
    app.route("/", devLoginRoutes(sql));
    app.get("/", (c) => c.redirect("/dev/login"));
  }
  app.use(
    "/static/*",
    serveStatic({
      root: new URL(".", import.meta.url).pathname,
      onFound: (_path, c) => c.header("cache-control", "public, max-age=300"),
    }),
  );

  return { app, appEnv, close: () => sql.end({ timeout: 5 }) };
}
