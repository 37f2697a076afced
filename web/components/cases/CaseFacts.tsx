// The case in facts, why it exists in Whop's words, and its member (member data decrypted for the
// company's admin only; never logged).
import type { ComponentChildren } from "preact";
import type { CaseRow } from "../../queries/case_detail.ts";
import { DateTime, formatMoney, StatusBadge } from "../ui.tsx";
import {
  ATTRIBUTION_WORDS,
  BILLING_REASON_WORDS,
  CANCEL_OPTION_WORDS,
  MEMBERSHIP_STATUS_WORDS,
  REASON_WORDS,
  words,
} from "./CaseLabels.tsx";

/** Reasons that come from a payment: only their cases count failed payments. */
const PAYMENT_REASONS = new Set(["payment_failed", "action_required"]);

/**
 * The case's reason in one line at the top of its page: what Whop said about the payment, or the
 * reason the member picked and their own words. Nothing when the events said neither.
 */
export function CaseWhySummary(
  { row, cancellationReason }: { row: CaseRow; cancellationReason: string | null },
) {
  const option = row.cancel_option && words(CANCEL_OPTION_WORDS, row.cancel_option);
  if (PAYMENT_REASONS.has(row.reason) && row.failure_message) {
    return (
      <p class="cases-why-summary">
        Whop said: <q>{row.failure_message}</q>
      </p>
    );
  }
  if (!option && !cancellationReason) return null;
  return (
    <p class="cases-why-summary">
      {option ? `The member's reason: ${option}` : "The member wrote"}
      {cancellationReason && (
        <>
          {option ? " — " : ": "}
          <q>{cancellationReason}</q>
        </>
      )}
    </p>
  );
}

export interface MemberDetails {
  name: string | null;
  email: string | null;
  username: string | null;
}

export function CaseFacts({ row }: { row: CaseRow }) {
  return (
    <section class="card" aria-labelledby="case-facts-heading">
      <h2 id="case-facts-heading">Case</h2>
      <dl class="cases-facts">
        <Fact term="Status">
          <StatusBadge status={row.status} closedBy={row.closed_by} />
        </Fact>
        <Fact term="Reason">{words(REASON_WORDS, row.reason)}</Fact>
        <Fact term="Opened">
          <DateTime value={row.opened_at} />
        </Fact>
        <Fact term="Closed">
          <DateTime value={row.closed_at} />
        </Fact>
        <Fact term="At risk">
          {formatMoney(row.amount_at_risk_minor, row.currency)}
          {!PAYMENT_REASONS.has(row.reason) && row.amount_at_risk_minor !== null && (
            <>
              {" "}
              <span class="muted">(the member's last payment)</span>
            </>
          )}
        </Fact>
        <Fact term="Recovered">{formatMoney(row.recovered_amount_minor, row.currency)}</Fact>
        <Fact term="Attribution">{row.attribution ? words(ATTRIBUTION_WORDS, row.attribution) : "—"}</Fact>
        {PAYMENT_REASONS.has(row.reason) && <Fact term="Failed payments">{String(row.failure_count)}</Fact>}
        <Fact term="Product">{row.product_title ?? "—"}</Fact>
        <Fact term="Membership">
          <code>{row.membership_id}</code>
        </Fact>
        {row.payment_id && (
          <Fact term="Payment">
            <code>{row.payment_id}</code>
          </Fact>
        )}
      </dl>
    </section>
  );
}

const CLOSED_BY_SENTENCES: Record<string, string> = {
  refund:
    "The member was refunded, so Churn Saver stopped nudging them and does not count this case as recovered.",
  dispute:
    "The member disputed a charge, so Churn Saver stopped nudging them and does not count this case as recovered.",
};

/** What Whop's events said about the case; `cancellationReason` is the member's own words, decrypted. */
export function CaseWhy({ row, cancellationReason }: { row: CaseRow; cancellationReason: string | null }) {
  const facts: [string, ComponentChildren][] = [];
  const add = (term: string, value: ComponentChildren | null | undefined) => {
    if (value !== null && value !== undefined && value !== "") facts.push([term, value]);
  };
  add("Failure message", row.failure_message);
  add("Billing reason", row.billing_reason && words(BILLING_REASON_WORDS, row.billing_reason));
  add("Whop's failed attempts", row.payments_failed === null ? null : String(row.payments_failed));
  add("Next retry by Whop", row.next_payment_attempt && <DateTime value={row.next_payment_attempt} />);
  add("Membership status", row.membership_status && words(MEMBERSHIP_STATUS_WORDS, row.membership_status));
  add("Cancellation option", row.cancel_option && words(CANCEL_OPTION_WORDS, row.cancel_option));
  add("Member's reason", cancellationReason && <q>{cancellationReason}</q>);
  add("Renewal period ends", row.renewal_period_end && <DateTime value={row.renewal_period_end} />);
  return (
    <section class="card cases-why" aria-labelledby="case-why-heading">
      <h2 id="case-why-heading">Why</h2>
      {row.closed_by && <p class="cases-note">{CLOSED_BY_SENTENCES[row.closed_by] ?? row.closed_by}</p>}
      {facts.length > 0
        ? (
          <dl class="cases-facts">
            {facts.map(([term, value]) => <Fact key={term} term={term}>{value}</Fact>)}
          </dl>
        )
        : <p class="muted cases-note">Whop's events for this case gave no further details.</p>}
    </section>
  );
}

export function MemberCard({ member, userId }: { member: MemberDetails; userId: string | null }) {
  return (
    <section class="card" aria-labelledby="case-member-heading">
      <h2 id="case-member-heading">Member</h2>
      <dl class="cases-facts">
        <Fact term="Name">{member.name ?? "—"}</Fact>
        <Fact term="Email">
          {member.email ? <a href={`mailto:${member.email}`}>{member.email}</a> : "—"}
        </Fact>
        <Fact term="Username">{member.username ?? "—"}</Fact>
        <Fact term="Whop user">{userId ? <code>{userId}</code> : "—"}</Fact>
      </dl>
      <p class="muted cases-note">Member details are shown only to admins of this company.</p>
    </section>
  );
}

function Fact({ term, children }: { term: string; children: ComponentChildren; key?: string }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
