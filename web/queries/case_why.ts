// Why a case exists, in Whop's words: what the membership's events said between the case's opening
// and its close (or now). The payment's facts come from its failures (a later success says nothing
// about why it failed); the membership's from any event, the latest that carried each one. Shared by
// the case page and the CSV. Events are purged 30 days after receipt, so an older case may have none.
import type { TenantSql } from "../lib/tenant.ts";

export interface CaseWhy {
  billing_reason: string | null;
  failure_message: string | null;
  payments_failed: number | null;
  next_payment_attempt: Date | null;
  membership_status: string | null;
  cancel_option: string | null;
  /** The event whose cancellation reason this is: the ciphertext is bound to it. */
  cancellation_event_id: string | null;
  cancellation_reason_ciphertext: string | null;
  renewal_period_end: Date | null;
}

/** The columns of `CaseWhy`, selected from `why`, for a query that joins `whyJoin`. */
export const whyColumns = (tx: TenantSql) =>
  tx`why.billing_reason, why.failure_message, why.payments_failed, why.next_payment_attempt,
     why.membership_status, why.cancel_option, why.cancellation_event_id, why.cancellation_reason_ciphertext,
     why.renewal_period_end`;

/** `left join lateral (...) why on true` for a query over `public.recovery_cases rc`. One index range scan
 * (events by company, membership and time) per case. */
export function whyJoin(tx: TenantSql) {
  const latest = (column: string, failuresOnly: boolean) =>
    tx`(array_agg(${tx(`e.${column}`)} order by e.occurred_at desc, e.id desc)
        filter (where ${tx(`e.${column}`)} is not null ${
      failuresOnly ? tx`and e.type in ('payment.failed', 'payment.requires_action')` : tx``
    }))[1]`;
  return tx`left join lateral (
      select ${latest("billing_reason", true)} as billing_reason,
             ${latest("failure_message", true)} as failure_message,
             ${latest("payments_failed", true)} as payments_failed,
             ${latest("next_payment_attempt", true)} as next_payment_attempt,
             ${latest("membership_status", false)} as membership_status,
             ${latest("cancel_option", false)} as cancel_option,
             (array_agg(e.id order by e.occurred_at desc, e.id desc)
               filter (where e.cancellation_reason_ciphertext is not null))[1] as cancellation_event_id,
             ${latest("cancellation_reason_ciphertext", false)} as cancellation_reason_ciphertext,
             ${latest("renewal_period_end", false)} as renewal_period_end
      from public.events e
      where e.company_id = rc.company_id and e.membership_id = rc.membership_id
        and e.occurred_at >= rc.opened_at and e.occurred_at <= coalesce(rc.closed_at, now())
    ) why on true`;
}

/** The membership's product as its latest event titled it (index events_company_membership_idx). */
export function productTitle(tx: TenantSql) {
  return tx`(select e.product_title from public.events e
    where e.company_id = rc.company_id and e.membership_id = rc.membership_id and e.product_title is not null
    order by e.occurred_at desc limit 1)`;
}
