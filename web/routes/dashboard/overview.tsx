// The Overview page: GET /dashboard/:companyId[?range=30|90] (anything else means 30).
import type { Hono } from "hono";
import { SetupChecklist } from "../../components/onboarding/SetupChecklist.tsx";
import { OverviewEmpty, OverviewPage } from "../../components/overview/OverviewPage.tsx";
import { renderDashboard } from "../../lib/render_dashboard.tsx";
import { withTenant } from "../../lib/tenant.ts";
import { loadOverview, parseRange } from "../../queries/overview.ts";
import { loadSetupState } from "../../queries/settings.ts";
import type { DashboardDeps, DashboardEnv } from "./context.ts";

const STYLES = ["/static/css/overview.css", "/static/css/onboarding.css"];

export function overviewRoutes(app: Hono<DashboardEnv>, deps: DashboardDeps) {
  app.get("/dashboard/:companyId", async (c) => {
    const viewer = c.get("viewer");
    const range = parseRange(c.req.query("range"));
    const [data, setup] = await Promise.all([
      loadOverview(deps.sql, viewer, range),
      withTenant(deps.sql, viewer, (tx) => loadSetupState(tx, viewer.companyId)),
    ]);
    const base = `/dashboard/${viewer.companyId}`;
    return renderDashboard(c, {
      section: "overview",
      title: "Overview",
      styles: STYLES,
      body: (
        <>
          <SetupChecklist state={setup} settingsHref={`${base}/settings`} />
          {data.hasCases ? <OverviewPage data={data} base={base} /> : <OverviewEmpty base={base} />}
        </>
      ),
    });
  });
}
