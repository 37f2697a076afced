// Activity: the company's audit log (settings changes, dismissed cases, manual nudges), newest
// first, 50 per page with keyset pagination (?page=older:<cursor> / newer:<cursor>; a malformed one is 400).
import type { Hono } from "hono";
import { badRequest } from "../../../supabase/functions/_shared/http.ts";
import { ActivityList } from "../../components/activity/ActivityList.tsx";
import { EmptyState, PageHeader } from "../../components/ui.tsx";
import { renderDashboard } from "../../lib/render_dashboard.tsx";
import { withTenant } from "../../lib/tenant.ts";
import { loadActivityPage, parseActivityCursor } from "../../queries/activity.ts";
import { memberListing } from "../../queries/case_member.ts";
import type { DashboardDeps, DashboardEnv } from "./context.ts";

export function activityRoutes(app: Hono<DashboardEnv>, deps: DashboardDeps) {
  app.get("/dashboard/:companyId/activity", async (c) => {
    const viewer = c.get("viewer");
    const cursor = parseActivityCursor(c.req.query("page"));
    if (cursor === "malformed") {
      throw badRequest("This page link is broken or out of date. Start again from the newest activity.");
    }
    const page = await withTenant(deps.sql, viewer, (tx) => loadActivityPage(tx, viewer.companyId, cursor));
    const members = await Promise.all(
      page.entries.map(async (entry) =>
        (await memberListing(deps.ring, viewer.companyId, {
          user_id: entry.case_user_id,
          name_ciphertext: entry.case_name_ciphertext,
          username_ciphertext: entry.case_username_ciphertext,
          email_ciphertext: null,
        })).name
      ),
    );
    const base = `/dashboard/${viewer.companyId}/activity`;
    const link = (position: string) => `${base}?page=${encodeURIComponent(position)}`;
    return renderDashboard(c, {
      section: "activity",
      title: "Activity",
      styles: ["/static/css/activity.css"],
      body: (
        <>
          <PageHeader title="Activity" subtitle="Who changed what in this dashboard, newest first." />
          {page.entries.length === 0
            ? (
              cursor
                ? (
                  <EmptyState title="No more entries here">
                    <a href={base}>Back to the newest activity</a>
                  </EmptyState>
                )
                : (
                  <EmptyState title="No activity yet">
                    Settings changes, dismissed cases and manual nudges will be listed here, with who made
                    them.
                  </EmptyState>
                )
            )
            : (
              <section class="card activity-card" aria-label="Activity log">
                <ActivityList
                  entries={page.entries.map((entry, i) => ({ ...entry, caseMember: members[i] }))}
                  companyId={viewer.companyId}
                  viewerId={viewer.userId}
                />
              </section>
            )}
          {(page.newer || page.older) && (
            <nav class="pagination" aria-label="Activity pages">
              {page.newer ? <a class="button" href={link(page.newer)} rel="prev">← Newer</a> : <span />}
              {page.older ? <a class="button" href={link(page.older)} rel="next">Older →</a> : <span />}
            </nav>
          )}
        </>
      ),
    });
  });
}
