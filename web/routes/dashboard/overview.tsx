// The Overview page: GET /dashboard/:companyId[?range=30|90] (anything else means 30).
import type { Hono } from "hono";
import { OverviewEmpty, OverviewPage } from "../../components/overview/OverviewPage.tsx";
import { renderDashboard } from "../../lib/render_dashboard.tsx";
import { loadOverview, parseRange } from "../../queries/overview.ts";
import type { DashboardDeps, DashboardEnv } from "./context.ts";

const STYLES = ["/static/css/overview.css"];

export function overviewRoutes(app: Hono<DashboardEnv>, deps: DashboardDeps) {
  app.get("/dashboard/:companyId", async (c) => {
    const viewer = c.get("viewer");
    const range = parseRange(c.req.query("range"));
    const data = await loadOverview(deps.sql, viewer, range);
    const base = `/dashboard/${viewer.companyId}`;
    return renderDashboard(c, {
      section: "overview",
      title: "Overview",
      styles: STYLES,
      body: data.hasCases ? <OverviewPage data={data} base={base} /> : <OverviewEmpty base={base} />,
    });
  });
}
