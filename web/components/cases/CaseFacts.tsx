// The case in facts, and its member (decrypted for the company's admin only; never logged).
import type { ComponentChildren } from "preact";
import type { CaseRow } from "../../queries/case_detail.ts";
import { formatDateTime, formatMoney, StatusBadge } from "../ui.tsx";
import { ATTRIBUTION_WORDS, REASON_WORDS, words } from "./CaseLabels.tsx";

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
          <StatusBadge status={row.status} />
        </Fact>
        <Fact term="Reason">{words(REASON_WORDS, row.reason)}</Fact>
        <Fact term="Opened">{formatDateTime(row.opened_at)}</Fact>
        <Fact term="Closed">{formatDateTime(row.closed_at)}</Fact>
        <Fact term="At risk">{formatMoney(row.amount_at_risk_minor, row.currency)}</Fact>
        <Fact term="Recovered">{formatMoney(row.recovered_amount_minor, row.currency)}</Fact>
        <Fact term="Attribution">{row.attribution ? words(ATTRIBUTION_WORDS, row.attribution) : "—"}</Fact>
        <Fact term="Failed payments">{String(row.failure_count)}</Fact>
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

function Fact({ term, children }: { term: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
