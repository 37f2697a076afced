// Renders a dashboard page inside its frame.
import type { Context } from "hono";
import type { ComponentChildren } from "preact";
import { renderToString } from "preact-render-to-string";
import { DashboardLayout, type DashboardSection } from "../components/DashboardLayout.tsx";
import type { DashboardEnv } from "../routes/dashboard/context.ts";

export function renderDashboard(
  c: Context<DashboardEnv>,
  page: {
    section: DashboardSection | null;
    title: string;
    body: ComponentChildren;
    scripts?: string[];
    styles?: string[];
    status?: 200 | 400 | 404 | 422;
  },
) {
  const viewer = c.get("viewer");
  const html = renderToString(
    <DashboardLayout
      companyId={viewer.companyId}
      companyTitle={c.get("companyTitle")}
      section={page.section}
      title={page.title}
      scripts={page.scripts}
      styles={page.styles}
    >
      {page.body}
    </DashboardLayout>,
  );
  return c.html("<!doctype html>" + html, page.status ?? 200, { "cache-control": "no-store" });
}
