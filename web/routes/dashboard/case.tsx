// GET /dashboard/:companyId/cases/:caseId — one case: its facts, its member (decrypted for the
// company's admin), a timeline of events, nudge attempts, link clicks and admin actions, the nudge
// jobs in detail, and the actions that apply (case_actions.tsx). A case id that is not a uuid or
// belongs to another company is a plain 404 that names nothing of it.
import type { Hono } from "hono";
import { notFound } from "../../../supabase/functions/_shared/http.ts";
import { CaseActions } from "../../components/cases/CaseActions.tsx";
import { CaseFacts, CaseWhy, CaseWhySummary, MemberCard } from "../../components/cases/CaseFacts.tsx";
import { REASON_WORDS, statusWords, words } from "../../components/cases/CaseLabels.tsx";
import { CaseNotice } from "../../components/cases/CaseNotice.tsx";
import { CaseNudges } from "../../components/cases/CaseNudges.tsx";
import { buildTimeline, CaseTimeline } from "../../components/cases/CaseTimeline.tsx";
import { DateTime, EmptyState, PageHeader } from "../../components/ui.tsx";
import { renderDashboard } from "../../lib/render_dashboard.tsx";
import { withTenant } from "../../lib/tenant.ts";
import { CANCEL_AUDIT_ACTION, loadCaseDetail, NO_SUCH_CASE } from "../../queries/case_detail.ts";
import { decryptEventField, decryptMemberField } from "../../queries/case_member.ts";
import { caseActionRoutes } from "./case_actions.tsx";
import { CASES_STYLES } from "./cases.tsx";
import type { DashboardDeps, DashboardEnv } from "./context.ts";

export function caseRoutes(app: Hono<DashboardEnv>, deps: DashboardDeps) {
  app.get("/dashboard/:companyId/cases/:caseId", async (c) => {
    const viewer = c.get("viewer");
    const detail = await withTenant(
      deps.sql,
      viewer,
      (tx) => loadCaseDetail(tx, viewer.companyId, c.req.param("caseId")),
    );
    if (!detail) throw notFound(NO_SUCH_CASE);

    const row = detail.case;
    const decrypt = (field: "email" | "name" | "username", ciphertext: string | null) =>
      decryptMemberField(deps.ring, viewer.companyId, row.user_id, field, ciphertext);
    const [name, email, username, cancellationReason] = await Promise.all([
      decrypt("name", row.name_ciphertext),
      decrypt("email", row.email_ciphertext),
      decrypt("username", row.username_ciphertext),
      decryptEventField(
        deps.ring,
        row.cancellation_event_id,
        "cancellation_reason",
        row.cancellation_reason_ciphertext,
      ),
    ]);
    const base = `/dashboard/${viewer.companyId}`;
    const caseHref = `${base}/cases/${row.id}`;
    const cancelRequested = detail.actions.some((action) => action.action === CANCEL_AUDIT_ACTION);
    const timeline = buildTimeline(detail, viewer.userId);

    return renderDashboard(c, {
      section: "cases",
      title: "Case",
      styles: CASES_STYLES,
      body: (
        <>
          <p class="cases-back">
            <a href={`${base}/cases`}>← All cases</a>
          </p>
          <PageHeader
            title={name ?? username ?? "Case"}
            subtitle={
              <>
                {words(REASON_WORDS, row.reason)} · opened <DateTime value={row.opened_at} />
                {row.closed_by && ` · ${statusWords(row.status, row.closed_by)}`}
              </>
            }
          />
          <CaseWhySummary row={row} cancellationReason={cancellationReason} />
          <CaseNotice code={c.req.query("notice")} />
          <div class="cases-columns">
            <div>
              <CaseFacts row={row} />
              <CaseWhy row={row} cancellationReason={cancellationReason} />
            </div>
            <div>
              <MemberCard member={{ name, email, username }} userId={row.user_id} />
              <CaseActions row={row} caseHref={caseHref} cancelRequested={cancelRequested} />
            </div>
          </div>
          <section aria-labelledby="case-timeline-heading" class="cases-section">
            <h2 id="case-timeline-heading">Timeline</h2>
            <CaseTimeline items={timeline} />
          </section>
          <section aria-labelledby="case-nudges-heading" class="cases-section">
            <h2 id="case-nudges-heading">Nudges</h2>
            {detail.jobs.length > 0
              ? <CaseNudges jobs={detail.jobs} attempts={detail.attempts} />
              : (
                <EmptyState title="No nudges for this case">
                  Nudges are scheduled when a case opens, for each channel turned on in Settings; none were
                  for this one. {row.status === "open" && "You can send one now with “Nudge now”."}
                </EmptyState>
              )}
            {(["push", "dm"] as const).map((channel) =>
              detail.channels[channel] && detail.jobs.some((job) => job.channel === channel) && (
                <p key={channel} class="muted cases-note">
                  {detail.channels[channel]}, so those nudges are skipped.
                </p>
              )
            )}
          </section>
        </>
      ),
    });
  });

  caseActionRoutes(app, deps);
}
