// The case list and the CSV export. A page is one keyset range scan over an index that ends in the
// sort key and id (migration *_case_list_indexes.sql): LIMIT 51, no OFFSET, and at most a bounded
// count, so it costs the same for 100 cases and for 100,000. Every query runs in the tenant
// transaction (RLS) and still names the viewer's company.
import type postgres from "postgres";
import { emailBlindIndexCandidates, type KeyRing } from "../../supabase/functions/_shared/crypto/pii.ts";
import { searchWordCandidates, searchWords } from "../../supabase/functions/_shared/crypto/search_tokens.ts";
import type { TenantSql } from "../lib/tenant.ts";
import { type CaseCursor, type CaseFilters, type CaseSort, dayAfter } from "./case_filters.ts";
import { type CaseExportExtras, exportColumns, exportJoins } from "./case_export.ts";
import { type CaseWhy, productTitle, whyColumns, whyJoin } from "./case_why.ts";

export const PAGE_SIZE = 50;
/** The count above the list stops here ("1,000+"): counting 100,000 rows on every page view would not. */
export const COUNT_LIMIT = 1000;

/** The columns of a case that both the list and the export show. */
interface CaseSummary {
  id: string;
  status: string;
  reason: string;
  /** `refund` or `dispute` when one ended a lost case. */
  closed_by: string | null;
  user_id: string | null;
  opened_at: Date;
  closed_at: Date | null;
  amount_at_risk_minor: string | null;
  recovered_amount_minor: string | null;
  currency: string | null;
  attribution: string | null;
}

export interface CaseListRow extends CaseSummary {
  /** The sort key as Postgres prints it, exactly (microseconds included), for the cursor. */
  sort_key: string;
  name_ciphertext: string | null;
  username_ciphertext: string | null;
  email_ciphertext: string | null;
  /** The product's title on the membership's latest event that names one. */
  product_title: string | null;
}

export interface CaseExportRow
  extends
    CaseSummary,
    CaseExportExtras,
    Pick<CaseWhy, "billing_reason" | "failure_message" | "cancel_option" | "cancellation_event_id"> {
  membership_id: string;
  email_ciphertext: string | null;
  cancellation_reason_ciphertext: string | null;
}

export interface CasePage {
  rows: CaseListRow[];
  /** Cursors of the neighbouring pages, when there are rows there. */
  next: CaseCursor | null;
  previous: CaseCursor | null;
}

interface SortSpec {
  /** The expression the list orders by (then by id, in the same direction). */
  key: (tx: TenantSql) => postgres.PendingQuery<postgres.Row[]>;
  keyText: (tx: TenantSql) => postgres.PendingQuery<postgres.Row[]>;
  cast: "timestamptz" | "bigint";
  descending: boolean;
}

const SORTS: Record<CaseSort, SortSpec> = {
  opened_desc: {
    key: (tx) => tx`rc.opened_at`,
    keyText: (tx) => tx`to_char(rc.opened_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    cast: "timestamptz",
    descending: true,
  },
  opened_asc: {
    key: (tx) => tx`rc.opened_at`,
    keyText: (tx) => tx`to_char(rc.opened_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    cast: "timestamptz",
    descending: false,
  },
  // Cases without an amount come last; the index is on this very expression.
  amount_desc: {
    key: (tx) => tx`coalesce(rc.amount_at_risk_minor, -1)`,
    keyText: (tx) => tx`coalesce(rc.amount_at_risk_minor, -1)::text`,
    cast: "bigint",
    descending: true,
  },
};

function orderBy(tx: TenantSql, sort: SortSpec, descending: boolean) {
  return descending ? tx`${sort.key(tx)} desc, rc.id desc` : tx`${sort.key(tx)} asc, rc.id asc`;
}

/** A search as keys the database can look up, never the typed words themselves. */
export interface MemberSearchKeys {
  /** A whole Whop id (`user_…`, `mem_…`, `pay_…`): matched against the case's own ids too. */
  whopId: string | null;
  /** A complete email's blind indexes, so members stored before search tokens are found by it too. */
  emailIndexes: string[] | null;
  /** For each typed word, the tokens (every field, every key of the ring) one of which a member must have. */
  wordTokens: string[][];
}

const WHOP_ID = /^(user|mem|pay)_[A-Za-z0-9_]{1,64}$/;
const COMPLETE_EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * The keys of the filters' member search for this company (tokens are bound to it), under every key of
 * the ring so a key rotation keeps finding members. Null without a search.
 */
export function searchIndexes(
  filters: CaseFilters,
  ring: KeyRing,
  companyId: string,
): MemberSearchKeys | null {
  const text = filters.search;
  if (!text) return null;
  return {
    whopId: WHOP_ID.test(text) ? text : null,
    emailIndexes: COMPLETE_EMAIL.test(text) ? emailBlindIndexCandidates(ring, text) : null,
    wordTokens: searchWords(text).map((word) => searchWordCandidates(ring, companyId, word)),
  };
}

/**
 * Cases of members matching every typed word (a prefix of a word of their name, username or email), or
 * the whole email, or the case's own Whop ids.
 */
function searchClause(tx: TenantSql, companyId: string, search: MemberSearchKeys) {
  const byId = search.whopId
    ? tx`rc.user_id = ${search.whopId} or rc.membership_id = ${search.whopId}
      or rc.payment_id = ${search.whopId} or`
    : tx``;
  const byWords = search.wordTokens
    .map((tokens) => tx`m.search_tokens && ${tokens}::text[]`)
    .reduce((all, part) => tx`${all} and ${part}`);
  const byEmail = search.emailIndexes
    ? tx`m.email_blind_index = any(${search.emailIndexes}::text[]) or`
    : tx``;
  return tx`(${byId} rc.user_id in (
    select m.user_id from public.members m where m.company_id = ${companyId} and (${byEmail} (${byWords}))))`;
}

/**
 * The WHERE clause shared by the list, the count and the export (without the cursor). Synchronous on
 * purpose: a fragment is thenable, and returning one from an async function would run it.
 */
function filterClause(
  tx: TenantSql,
  companyId: string,
  filters: CaseFilters,
  search: MemberSearchKeys | null,
) {
  const parts = [tx`rc.company_id = ${companyId}`];
  if (filters.status) parts.push(tx`rc.status = ${filters.status}`);
  if (filters.reason) parts.push(tx`rc.reason = ${filters.reason}`);
  if (filters.from) parts.push(tx`rc.opened_at >= ${`${filters.from}T00:00:00Z`}::timestamptz`);
  if (filters.to) parts.push(tx`rc.opened_at < ${dayAfter(filters.to)}::timestamptz`);
  if (search) parts.push(searchClause(tx, companyId, search));
  return parts.reduce((all, part) => tx`${all} and ${part}`);
}

/** One page of the list, in the filters' sort order. */
export async function listCases(
  tx: TenantSql,
  companyId: string,
  filters: CaseFilters,
  cursor: CaseCursor | null,
  search: MemberSearchKeys | null,
): Promise<CasePage> {
  const sort = SORTS[filters.sort];
  // Going back reads the previous rows in reverse order, then flips them.
  const backwards = cursor?.direction === "before";
  const descending = sort.descending !== backwards;
  const where = filterClause(tx, companyId, filters, search);
  let after = tx``;
  if (cursor) {
    // Sent as text: typed as timestamptz, postgres.js would pass it through a Date and lose the microseconds.
    const value = sort.cast === "bigint"
      ? tx`${cursor.key}::text::bigint`
      : tx`${cursor.key}::text::timestamptz`;
    after = descending
      ? tx`and (${sort.key(tx)}, rc.id) < (${value}, ${cursor.id}::uuid)`
      : tx`and (${sort.key(tx)}, rc.id) > (${value}, ${cursor.id}::uuid)`;
  }
  const order = orderBy(tx, sort, descending);

  const fetched = await tx<CaseListRow[]>`
    select rc.id, rc.status, rc.reason, rc.closed_by, rc.opened_at, rc.closed_at,
           rc.amount_at_risk_minor::text as amount_at_risk_minor,
           rc.recovered_amount_minor::text as recovered_amount_minor,
           rc.currency, rc.attribution, rc.user_id, ${sort.keyText(tx)} as sort_key,
           m.name_ciphertext, m.username_ciphertext, m.email_ciphertext, ${productTitle(tx)} as product_title
    from public.recovery_cases rc
    left join public.members m on m.company_id = rc.company_id and m.user_id = rc.user_id
    where ${where} ${after}
    order by ${order}
    limit ${PAGE_SIZE + 1}`;

  const more = fetched.length > PAGE_SIZE;
  const rows = fetched.slice(0, PAGE_SIZE);
  if (backwards) rows.reverse();
  const first = rows[0];
  const last = rows[rows.length - 1];
  const hasNext = backwards ? rows.length > 0 : more;
  const hasPrevious = backwards ? more : cursor !== null && rows.length > 0;
  return {
    rows,
    next: hasNext && last ? { direction: "after", key: last.sort_key, id: last.id } : null,
    previous: hasPrevious && first ? { direction: "before", key: first.sort_key, id: first.id } : null,
  };
}

/** How many cases match, counted up to COUNT_LIMIT + 1 (so "more than 1,000" can be said). */
export async function countCases(
  tx: TenantSql,
  companyId: string,
  filters: CaseFilters,
  search: MemberSearchKeys | null,
): Promise<number> {
  const where = filterClause(tx, companyId, filters, search);
  const [row] = await tx<{ count: number }[]>`
    select count(*)::int as count
    from (select 1 from public.recovery_cases rc where ${where} limit ${COUNT_LIMIT + 1}) matching`;
  return row.count;
}

/** Every matching case, in the list's order, for `.cursor(n)`: the CSV never holds all rows at once.
 * `timeZone` is the company's (prepareExport), for the times the file shows. */
export function exportCasesQuery(
  tx: TenantSql,
  companyId: string,
  filters: CaseFilters,
  search: MemberSearchKeys | null,
  timeZone: string,
) {
  const sort = SORTS[filters.sort];
  const where = filterClause(tx, companyId, filters, search);
  const order = orderBy(tx, sort, sort.descending);
  return tx<CaseExportRow[]>`
    select rc.id, rc.status, rc.reason, rc.closed_by, rc.membership_id, rc.user_id, rc.opened_at, rc.closed_at,
           rc.amount_at_risk_minor::text as amount_at_risk_minor,
           rc.recovered_amount_minor::text as recovered_amount_minor,
           rc.currency, rc.attribution, m.email_ciphertext, ${whyColumns(tx)}, ${exportColumns(tx, timeZone)}
    from public.recovery_cases rc
    left join public.members m on m.company_id = rc.company_id and m.user_id = rc.user_id
    ${whyJoin(tx)}
    ${exportJoins(tx)}
    where ${where}
    order by ${order}`;
}
