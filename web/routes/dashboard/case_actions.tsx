// Actions on a case, each in two steps: GET .../actions/<action> asks for confirmation, POST does it
// and answers 303 back to the case page with a notice, so the change shows at once.
//   nudge             — private.create_manual_nudge (checks the case is open and ours, audits)
//   dismiss           — private.dismiss_case (closes it, cancels pending nudges, audits)
//   cancel-membership — Whop cancels the membership at period end; audited by us once Whop agreed
// POSTs from another site are refused for the whole dashboard (index.ts, web/lib/cross_site.ts), and
// the privileged SQL functions always get the verified company, never one from the request.
import type { Context, Hono } from "hono";
import type { ComponentChildren } from "preact";
import { badRequest, notFound } from "../../../supabase/functions/_shared/http.ts";
import { log } from "../../../supabase/functions/_shared/log.ts";
import type { WhopFailure } from "../../../supabase/functions/_shared/whop/client.ts";
import { CHANNEL_WORDS } from "../../components/cases/CaseLabels.tsx";
import { ConfirmAction } from "../../components/cases/ConfirmAction.tsx";
import { PageHeader } from "../../components/ui.tsx";
import { renderDashboard } from "../../lib/render_dashboard.tsx";
import { type TenantSql, withTenant } from "../../lib/tenant.ts";
import {
  actionRefusal,
  CANCEL_AUDIT_ACTION,
  cancelAlreadyRequested,
  CASE_ACTIONS,
  type CaseAction,
  type CaseRow,
  type ChannelReadiness,
  channelReadiness,
  findCase,
  NO_SUCH_CASE,
  UUID_PATTERN,
} from "../../queries/case_detail.ts";
import { CASES_STYLES } from "./cases.tsx";
import type { DashboardDeps, DashboardEnv } from "./context.ts";

type Ctx = Context<DashboardEnv>;

const ACTION_PATH = "/dashboard/:companyId/cases/:caseId/actions/:action";
const NUDGE_CHANNELS = ["push", "dm"] as const;

interface ActionTarget {
  action: CaseAction;
  row: CaseRow;
  caseHref: string;
  cancelRequested: boolean;
  channels: ChannelReadiness;
}

export function caseActionRoutes(app: Hono<DashboardEnv>, deps: DashboardDeps) {
  app.get(ACTION_PATH, async (c) => {
    const target = await loadTarget(c, deps);
    const refusal = actionRefusal(target.action, target.row, target.cancelRequested);
    if (refusal) return backToCase(c, target, refusal);
    return renderConfirmation(c, target);
  });

  app.post(ACTION_PATH, async (c) => {
    const target = await loadTarget(c, deps);
    const refusal = actionRefusal(target.action, target.row, target.cancelRequested);
    if (refusal) return backToCase(c, target, refusal);
    const form = await c.req.parseBody();
    switch (target.action) {
      case "nudge":
        return await nudge(c, deps, target, form.channel);
      case "dismiss":
        return await dismiss(c, deps, target);
      case "cancel-membership":
        return await cancelAtPeriodEnd(c, deps, target, form.request_id);
    }
  });
}

/** The action and the case, read under the viewer's company; anything else is a 404 naming nothing. */
async function loadTarget(c: Ctx, deps: DashboardDeps): Promise<ActionTarget> {
  const viewer = c.get("viewer");
  const action = c.req.param("action") as CaseAction;
  const caseId = c.req.param("caseId") ?? "";
  if (!CASE_ACTIONS.includes(action) || !UUID_PATTERN.test(caseId)) throw notFound(NO_SUCH_CASE);
  const found = await withTenant(deps.sql, viewer, async (tx: TenantSql) => {
    const row = await findCase(tx, viewer.companyId, caseId);
    if (!row) return null;
    const [cancelRequested, channels] = await Promise.all([
      cancelAlreadyRequested(tx, viewer.companyId, row.id),
      channelReadiness(tx, viewer.companyId),
    ]);
    return { row, cancelRequested, channels };
  });
  if (!found) throw notFound(NO_SUCH_CASE);
  return { action, ...found, caseHref: `/dashboard/${viewer.companyId}/cases/${found.row.id}` };
}

function backToCase(c: Ctx, target: ActionTarget, notice: string) {
  return c.redirect(`${target.caseHref}?notice=${notice}`, 303);
}

async function nudge(c: Ctx, deps: DashboardDeps, target: ActionTarget, channel: unknown) {
  const viewer = c.get("viewer");
  if (!NUDGE_CHANNELS.includes(channel as "push")) {
    throw badRequest("Choose how to send the nudge: push notification or direct message.");
  }
  try {
    await deps.sql`
      select private.create_manual_nudge(${viewer.companyId}, ${target.row.id}::uuid, ${channel as string}, ${viewer.userId})`;
  } catch (error) {
    // The case closed between the page and the click.
    if ((error as { code?: string }).code === "P0002") return backToCase(c, target, "not_open");
    throw error;
  }
  return backToCase(c, target, `nudge_${channel}`);
}

async function dismiss(c: Ctx, deps: DashboardDeps, target: ActionTarget) {
  const viewer = c.get("viewer");
  const [{ dismissed }] = await deps.sql<{ dismissed: boolean }[]>`
    select private.dismiss_case(${viewer.companyId}, ${target.row.id}::uuid, ${viewer.userId}) as dismissed`;
  return backToCase(c, target, dismissed ? "dismissed" : "not_open");
}

async function cancelAtPeriodEnd(c: Ctx, deps: DashboardDeps, target: ActionTarget, requestId: unknown) {
  const viewer = c.get("viewer");
  const membershipId = target.row.membership_id;
  // One key per confirmation: a double submit is one cancellation; a retry after a failure is a new try.
  const attempt = typeof requestId === "string" && UUID_PATTERN.test(requestId) ? `:${requestId}` : "";
  const outcome = await deps.whop.cancelMembership(
    { membershipId, mode: "at_period_end" },
    `churn-saver:cancel-at-period-end:${target.row.id}${attempt}`,
  );
  if (!outcome.ok) {
    log.warn("membership cancel failed at Whop", {
      case_id: target.row.id,
      kind: outcome.kind,
      status: outcome.status,
    });
    return backToCase(c, target, whopNotice(outcome));
  }
  await withTenant(deps.sql, viewer, (tx) =>
    tx`
      insert into public.audit_log (company_id, actor, action, target_type, target_id, after)
      values (${viewer.companyId}, ${viewer.userId}, ${CANCEL_AUDIT_ACTION}, 'recovery_case', ${target.row.id},
              ${tx.json({ membership_id: membershipId, cancellation_mode: "at_period_end" })})`);
  return backToCase(c, target, "cancel_requested");
}

function whopNotice(outcome: WhopFailure): string {
  if (outcome.kind !== "permanent") return "whop_unavailable";
  return outcome.status === 404 ? "whop_missing" : "whop_refused";
}

function renderConfirmation(c: Ctx, target: ActionTarget) {
  const action = `${target.caseHref}/actions/${target.action}`;
  const page = (title: string, body: ComponentChildren) =>
    renderDashboard(c, {
      section: "cases",
      title,
      styles: CASES_STYLES,
      body: (
        <>
          <p class="cases-back">
            <a href={target.caseHref}>← Back to the case</a>
          </p>
          <PageHeader title={title} />
          {body}
        </>
      ),
    });

  if (target.action === "nudge") {
    // Offer the channel that will actually go out; both stay selectable.
    const preferred = target.channels.push === null || target.channels.dm !== null ? "push" : "dm";
    return page(
      "Nudge this member now?",
      <ConfirmAction
        action={action}
        confirmLabel="Send nudge"
        backHref={target.caseHref}
        fields={
          <fieldset class="cases-choice">
            <legend>Send it as</legend>
            {NUDGE_CHANNELS.map((channel) => (
              <label key={channel} class="cases-radio">
                <input type="radio" name="channel" value={channel} checked={channel === preferred} required />
                {CHANNEL_WORDS[channel]}
              </label>
            ))}
          </fieldset>
        }
      >
        <p>
          Churn Saver sends one extra nudge with the next dispatch round, usually within a minute, using your
          message for the first nudge. The scheduled nudges stay as they are.
        </p>
        {NUDGE_CHANNELS.map((channel) =>
          target.channels[channel] && (
            <p key={channel} class="muted">
              {target.channels[channel]}, so a nudge sent that way would be skipped.
            </p>
          )
        )}
      </ConfirmAction>,
    );
  }
  if (target.action === "dismiss") {
    return page(
      "Dismiss this case?",
      <ConfirmAction action={action} confirmLabel="Dismiss case" danger backHref={target.caseHref}>
        <p>
          The case closes as dismissed and its pending nudges are cancelled. The member is not told. A
          dismissed case stays closed; a new failed payment opens a new one.
        </p>
      </ConfirmAction>,
    );
  }
  return page(
    "Cancel this membership at the end of its period?",
    <ConfirmAction
      action={action}
      confirmLabel="Cancel at period end"
      danger
      backHref={target.caseHref}
      fields={<input type="hidden" name="request_id" value={crypto.randomUUID()} />}
    >
      <p>
        Whop cancels membership <code>{target.row.membership_id}</code>{" "}
        when its current billing period ends: the member keeps access until then and is not charged again. You
        can undo it in your Whop dashboard before then.
      </p>
      <p class="muted">
        This case's nudges keep going until the case closes; dismiss it too if you want them to stop.
      </p>
    </ConfirmAction>,
  );
}
