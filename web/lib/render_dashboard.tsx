// Renders a dashboard page inside its frame, with the paused banner when nudges are not going out, and
// every moment on it in the company's time zone.
import type { Context } from "hono";
import type { ComponentChildren } from "preact";
import { renderToString } from "preact-render-to-string";
import { DashboardLayout, type DashboardSection } from "../components/DashboardLayout.tsx";
import { PausedBanner } from "../components/PausedBanner.tsx";
import { TimeZoneContext } from "../components/ui.tsx";
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
      <TimeZoneContext.Provider value={c.get("timeZone") ?? "UTC"}>
        <PausedBanner
          pause={c.get("nudgePause") ?? null}
          settingsHref={`/dashboard/${viewer.companyId}/settings`}
        />
        {page.body}
      </TimeZoneContext.Provider>
    </DashboardLayout>,
  );
  return c.html("<!doctype html>" + html, page.status ?? 200, { "cache-control": "no-store" });
}
