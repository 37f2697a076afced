// The creator dashboard under Whop's view path /dashboard/:companyId (ARCHITECTURE section 7).
// Requests that change something must come from our own pages (web/lib/cross_site.ts), checked
// first so that a forged post costs nothing. Every request is then authenticated (Whop user token +
// admin access to this company, web/lib/whop_auth.ts) before any page runs; pages then read through
// withTenant, so RLS scopes every query to the verified company.
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { notFound } from "../../../supabase/functions/_shared/http.ts";
import { crossSiteGuard } from "../../lib/cross_site.ts";
import { withTenant } from "../../lib/tenant.ts";
import { activityRoutes } from "./activity.tsx";
import { caseRoutes } from "./case.tsx";
import { casesRoutes } from "./cases.tsx";
import {
  COMPANY_ID_PATTERN,
  type DashboardDeps,
  type DashboardEnv,
  DEV_TOKEN_COOKIE,
  type NudgePause,
} from "./context.ts";
import { exportRoutes } from "./export.ts";
import { overviewRoutes } from "./overview.tsx";
import { settingsRoutes } from "./settings.tsx";

export function dashboardRoutes(deps: DashboardDeps) {
  const app = new Hono<DashboardEnv>();

  const authenticate = async (c: import("hono").Context<DashboardEnv>, next: () => Promise<void>) => {
    const companyId = c.req.param("companyId") ?? "";
    if (!COMPANY_ID_PATTERN.test(companyId)) throw notFound("There is no such company.");
    const token = c.req.header("x-whop-user-token") ??
      (deps.appEnv === "local" ? getCookie(c, DEV_TOKEN_COOKIE) : undefined);
    const viewer = await deps.auth.authenticate(token, companyId);
    c.set("viewer", viewer);
    const [company] = await withTenant(
      deps.sql,
      viewer,
      (tx) =>
        tx<{ title: string | null; time_zone: string; pause: NudgePause }[]>`
          select c.title, coalesce(s.time_zone, 'UTC') as time_zone, public.nudge_pause(c.company_id) as pause
          from public.companies c left join public.company_settings s on s.company_id = c.company_id
          where c.company_id = ${companyId}`,
    );
    c.set("companyTitle", company?.title ?? null);
    c.set("timeZone", company?.time_zone ?? "UTC");
    c.set("nudgePause", company?.pause ?? null);
    await next();
  };
  const refuseCrossSite = crossSiteGuard(deps.allowedOrigins);
  for (const path of ["/dashboard/:companyId", "/dashboard/:companyId/*"]) {
    app.use(path, refuseCrossSite);
    app.use(path, authenticate);
  }

  overviewRoutes(app, deps);
  casesRoutes(app, deps);
  caseRoutes(app, deps);
  exportRoutes(app, deps);
  settingsRoutes(app, deps);
  activityRoutes(app, deps);
  return app;
}
