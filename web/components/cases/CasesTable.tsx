// One page of cases. Each row links to its case page and says who (name, email) and what (product);
// amounts are in each case's own currency.
import { DateTime, formatMoney, StatusBadge } from "../ui.tsx";
import { ATTRIBUTION_WORDS, REASON_WORDS, words } from "./CaseLabels.tsx";
import type { CaseListRow } from "../../queries/cases.ts";

/** A row of the list query, with its link and the member decrypted for this page. */
export interface CaseListItem extends
  Omit<
    CaseListRow,
    "id" | "user_id" | "sort_key" | "name_ciphertext" | "username_ciphertext" | "email_ciphertext"
  > {
  href: string;
  /** Name (else username) and email; each null when unknown. */
  member: { name: string | null; email: string | null };
}

export function CasesTable({ items }: { items: CaseListItem[] }) {
  return (
    <div class="table-wrap">
      <table class="data cases-table">
        <caption class="sr-only">Recovery cases</caption>
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Product</th>
            <th scope="col">Status</th>
            <th scope="col">Reason</th>
            <th scope="col">Opened</th>
            <th scope="col">Closed</th>
            <th scope="col">At risk / recovered</th>
            <th scope="col">Attribution</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.href}>
              <td data-label="Member" class="cases-member">
                <a href={item.href} class="cases-row-link">
                  {item.member.name ?? item.member.email ?? (
                    <>
                      <span aria-hidden="true">—</span>
                      <span class="sr-only">Case of an unknown member</span>
                    </>
                  )}
                </a>
                {item.member.name && item.member.email && <span class="cases-email">{item.member.email}
                </span>}
              </td>
              <td data-label="Product">{item.product_title ?? "—"}</td>
              <td data-label="Status">
                <StatusBadge status={item.status} closedBy={item.closed_by} />
              </td>
              <td data-label="Reason">{words(REASON_WORDS, item.reason)}</td>
              <td data-label="Opened">
                <DateTime value={item.opened_at} />
              </td>
              <td data-label="Closed">
                <DateTime value={item.closed_at} />
              </td>
              <td data-label="At risk / recovered" class="cases-amounts">
                <span>{formatMoney(item.amount_at_risk_minor, item.currency)}</span>
                {item.recovered_amount_minor !== null && (
                  <span class="cases-recovered">
                    {formatMoney(item.recovered_amount_minor, item.currency)} recovered
                  </span>
                )}
              </td>
              <td data-label="Attribution">
                {item.attribution ? words(ATTRIBUTION_WORDS, item.attribution) : "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
