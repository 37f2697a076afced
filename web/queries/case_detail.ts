// One case and everything that happened to it: the membership's events around the case, its nudge
// jobs with every delivery attempt, clicks on its recovery links and creators' actions on it. Runs in
// the tenant transaction and names the company in every query, so another company's case id finds
// nothing at all.
import type { TenantSql } from "../lib/tenant.ts";
import { type CaseWhy, productTitle, whyColumns, whyJoin } from "./case_why.ts";

export const NO_SUCH_CASE =
  "There is no such case in this company. Closed cases are deleted 60 days after closing.";
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Bounds, so one unusual case cannot make its page huge. */
const MAX_EVENTS = 200;
const MAX_CLICKS = 200;
const MAX_ACTIONS = 100;

export interface CaseRow extends CaseWhy {
  id: string;
  membership_id: string;
  user_id: string | null;
  status: string;
  reason: string;
  /** `refund` or `dispute` when one ended a lost case. */
  closed_by: string | null;
  opened_at: Date;
  closed_at: Date | null;
  attribution: string | null;
  failure_count: number;
  amount_at_risk_minor: string | null;
  recovered_amount_minor: string | null;
  currency: string | null;
  payment_id: string | null;
  email_ciphertext: string | null;
  name_ciphertext: string | null;
  username_ciphertext: string | null;
  /** The product's title on the membership's latest event that names one. */
  product_title: string | null;
}

export interface CaseEventRow {
  id: string;
  type: string;
  occurred_at: Date;
  amount_minor: string | null;
  currency: string | null;
  cancel_at_period_end: boolean | null;
}

export interface CaseJobRow {
  id: string;
  channel: string;
  step: number;
  origin: string;
  status: string;
  /** Null for free days still waiting for the first delivered message (their announcement). */
  scheduled_for: Date | null;
  sent_at: Date | null;
  attempts: number;
  last_error: string | null;
}

export interface CaseAttemptRow {
  id: string;
  job_id: string;
  status: string;
  http_status: number | null;
  latency_ms: number | null;
  error: string | null;
  created_at: Date;
}

export interface CaseClickRow {
  id: string;
  job_id: string | null;
  clicked_at: Date;
  is_bot: boolean;
  /** Whop had given the case nowhere to go: the member saw the "Open Whop" page. */
  led_nowhere: boolean;
}

export interface CaseActionRow {
  id: string;
  actor: string;
  action: string;
  created_at: Date;
  after: Record<string, unknown> | null;
}

export interface CaseDetail {
  case: CaseRow;
  events: CaseEventRow[];
  jobs: CaseJobRow[];
  attempts: CaseAttemptRow[];
  clicks: CaseClickRow[];
  actions: CaseActionRow[];
  channels: ChannelReadiness;
}

/** Per nudge channel, why the dispatcher would skip it under the company's settings, or null when it can go. */
export interface ChannelReadiness {
  push: string | null;
  dm: string | null;
}

/** The case of this company with this id, or null (also for an id that is not a uuid). */
export async function findCase(tx: TenantSql, companyId: string, caseId: string): Promise<CaseRow | null> {
  if (!UUID_PATTERN.test(caseId)) return null;
  const [row] = await tx<CaseRow[]>`
    select rc.id, rc.membership_id, rc.user_id, rc.status, rc.reason, rc.closed_by, rc.opened_at, rc.closed_at,
           rc.attribution, rc.failure_count, rc.amount_at_risk_minor::text as amount_at_risk_minor,
           rc.recovered_amount_minor::text as recovered_amount_minor, rc.currency, rc.payment_id,
           m.email_ciphertext, m.name_ciphertext, m.username_ciphertext, ${productTitle(tx)} as product_title,
           ${whyColumns(tx)}
    from public.recovery_cases rc
    left join public.members m on m.company_id = rc.company_id and m.user_id = rc.user_id
    ${whyJoin(tx)}
    where rc.company_id = ${companyId} and rc.id = ${caseId}::uuid`;
  return row ?? null;
}

export async function loadCaseDetail(
  tx: TenantSql,
  companyId: string,
  caseId: string,
): Promise<CaseDetail | null> {
  const found = await findCase(tx, companyId, caseId);
  if (!found) return null;
  // The membership's events from a day before the case opened to a day after it closed (or now).
  const [events, jobs, attempts, clicks, actions, channels] = await Promise.all([
    tx<CaseEventRow[]>`
      select e.id, e.type, e.occurred_at, e.amount_minor::text as amount_minor, e.currency,
             e.cancel_at_period_end
      from public.events e
      where e.company_id = ${companyId} and e.membership_id = ${found.membership_id}
        and e.occurred_at >= ${found.opened_at}::timestamptz - interval '1 day'
        and e.occurred_at <= coalesce(${found.closed_at}::timestamptz, now()) + interval '1 day'
      order by e.occurred_at, e.id
      limit ${MAX_EVENTS}`,
    tx<CaseJobRow[]>`
      select j.id::text as id, j.channel, j.step, j.origin, j.status,
             case when j.scheduled_for <> 'infinity' then j.scheduled_for end as scheduled_for, j.sent_at,
             j.attempts, j.last_error
      from public.job_queue j
      where j.company_id = ${companyId} and j.case_id = ${caseId}::uuid
      order by j.scheduled_for, j.id`,
    tx<CaseAttemptRow[]>`
      select a.id::text as id, a.job_id::text as job_id, a.status, a.http_status, a.latency_ms, a.error,
             a.created_at
      from public.notification_attempts a
      join public.job_queue j on j.id = a.job_id and j.company_id = a.company_id
      where a.company_id = ${companyId} and j.case_id = ${caseId}::uuid
      order by a.created_at, a.id`,
    tx<CaseClickRow[]>`
      select c.id::text as id, c.job_id::text as job_id, c.clicked_at, c.is_bot, c.led_nowhere
      from public.link_clicks c
      where c.company_id = ${companyId} and c.case_id = ${caseId}::uuid
      order by c.clicked_at, c.id
      limit ${MAX_CLICKS}`,
    tx<CaseActionRow[]>`
      select l.id::text as id, l.actor, l.action, l.created_at, l.after
      from public.audit_log l
      where l.company_id = ${companyId} and l.target_type = 'recovery_case' and l.target_id = ${caseId}
      order by l.created_at, l.id
      limit ${MAX_ACTIONS}`,
    channelReadiness(tx, companyId),
  ]);
  return {
    case: found,
    events,
    jobs,
    attempts,
    clicks,
    actions,
    channels,
  };
}

export async function channelReadiness(tx: TenantSql, companyId: string): Promise<ChannelReadiness> {
  const [settings] = await tx<{ experience_id: string | null; push_enabled: boolean; dm_enabled: boolean }[]>`
    select s.experience_id, s.push_enabled, s.dm_enabled from public.company_settings s
    where s.company_id = ${companyId}`;
  if (!settings) return { push: null, dm: null };
  return {
    push: !settings.push_enabled
      ? "Push notifications are turned off in Settings"
      : !settings.experience_id
      ? "Push notifications need your Whop experience id in Settings"
      : null,
    dm: settings.dm_enabled ? null : "Direct messages are turned off in Settings",
  };
}

/** Whether a creator already had Whop cancel this case's membership at period end. */
export async function cancelAlreadyRequested(tx: TenantSql, companyId: string, caseId: string) {
  const [row] = await tx`
    select 1 from public.audit_log l
    where l.company_id = ${companyId} and l.target_type = 'recovery_case' and l.target_id = ${caseId}
      and l.action = ${CANCEL_AUDIT_ACTION}
    limit 1`;
  return Boolean(row);
}

export const CANCEL_AUDIT_ACTION = "membership.cancel_at_period_end";

export const CASE_ACTIONS = ["nudge", "dismiss", "cancel-membership"] as const;
export type CaseAction = (typeof CASE_ACTIONS)[number];
/** Why an action does not apply now: the notice the case page shows instead. */
export type ActionRefusal = "not_open" | "cancel_not_applicable" | "cancel_already";

/** Reasons whose membership is still billing, so there is a period end to cancel at. */
const CANCELLABLE_REASONS = new Set(["payment_failed", "action_required"]);

export function actionRefusal(
  action: CaseAction,
  row: Pick<CaseRow, "status" | "reason">,
  cancelRequested: boolean,
): ActionRefusal | null {
  if (row.status !== "open") return "not_open";
  if (action !== "cancel-membership") return null;
  // A member who scheduled the cancellation, or whose membership already ended, has nothing to cancel.
  if (!CANCELLABLE_REASONS.has(row.reason)) return "cancel_not_applicable";
  return cancelRequested ? "cancel_already" : null;
}
