// GET /dashboard/:companyId/cases — the company's recovery cases: filters (status, reason, opened
// date range, member search), sorting, 50 per page by keyset cursor, and a CSV of the same selection.
// Filters that do not parse answer 400 with the form showing what to fix.
// POST /dashboard/:companyId/cases — the filter form: its search is PII (a name, an email), so it is
// posted and answered with a 303 to the list whose URL carries it encrypted. A `q` in a GET URL (an
// old bookmark) is moved out of the URL the same way.
import type { Context, Hono } from "hono";
import { CaseFilters } from "../../components/cases/CaseFilters.tsx";
import { type CaseListItem, CasesTable } from "../../components/cases/CasesTable.tsx";
import { EmptyState, PageHeader } from "../../components/ui.tsx";
import { renderDashboard } from "../../lib/render_dashboard.tsx";
import { withTenant } from "../../lib/tenant.ts";
import {
  type CaseCursor,
  encodeCursor,
  filterQuery,
  hasFilters,
  parseCaseQuery,
  type ParsedCaseQuery,
} from "../../queries/case_filters.ts";
import { memberListing } from "../../queries/case_member.ts";
import { COUNT_LIMIT, countCases, listCases, searchIndexes } from "../../queries/cases.ts";
import type { DashboardDeps, DashboardEnv } from "./context.ts";

export const CASES_STYLES = ["/static/css/cases.css"];

export function casesRoutes(app: Hono<DashboardEnv>, deps: DashboardDeps) {
  app.post("/dashboard/:companyId/cases", async (c) => {
    const form = await c.req.parseBody();
    const params = new URLSearchParams();
    for (const field of FORM_FIELDS) {
      const value = form[field];
      if (typeof value === "string" && value.trim() !== "") params.set(field, value);
    }
    return await searchRedirect(c, deps, params);
  });

  app.get("/dashboard/:companyId/cases", async (c) => {
    const viewer = c.get("viewer");
    const context = { ring: deps.ring, companyId: viewer.companyId };
    const params = new URL(c.req.url).searchParams;
    if (params.has("q")) return await searchRedirect(c, deps, params);
    const parsed = parseCaseQuery(params, context);
    if (Object.keys(parsed.errors).length > 0) return renderInvalidFilters(c, parsed);

    const { filters, cursor } = parsed;
    const search = searchIndexes(filters, deps.ring, viewer.companyId);
    const { page, count } = await withTenant(deps.sql, viewer, async (tx) => {
      const [page, count] = await Promise.all([
        listCases(tx, viewer.companyId, filters, cursor, search),
        countCases(tx, viewer.companyId, filters, search),
      ]);
      return { page, count };
    });

    const base = `/dashboard/${viewer.companyId}`;
    const items: CaseListItem[] = await Promise.all(page.rows.map(async (row) => {
      const { name_ciphertext: _n, username_ciphertext: _u, email_ciphertext: _e, ...shown } = row;
      return {
        ...shown,
        href: `${base}/cases/${row.id}`,
        member: await memberListing(deps.ring, viewer.companyId, row),
      };
    }));
    const query = await filterQuery(filters, context);
    const pageLink = (target: CaseCursor) => {
      const params = new URLSearchParams(query);
      params.set("cursor", encodeCursor(filters.sort, target));
      return `${base}/cases?${params}`;
    };
    const firstPage = `${base}/cases${query.size ? `?${query}` : ""}`;
    const csvLink = `${base}/export.csv${query.size ? `?${query}` : ""}`;
    const filtered = hasFilters(filters);

    return renderDashboard(c, {
      section: "cases",
      title: "Cases",
      styles: CASES_STYLES,
      body: (
        <>
          <PageHeader
            title="Cases"
            subtitle="Every membership Churn Saver is working to keep, and how each one ended."
            actions={
              <a class="button" href={csvLink}>
                Download CSV<span class="sr-only">
                  {filtered ? " of the filtered cases" : " of all cases"}
                </span>
              </a>
            }
          />
          <CaseFilters action={`${base}/cases`} raw={parsed.raw} errors={{}} />
          {items.length > 0
            ? (
              <>
                <p class="muted cases-count" role="status">{countWords(count, filtered)}</p>
                <CasesTable items={items} />
              </>
            )
            : emptyState(filtered, cursor !== null, firstPage, `${base}/cases`)}
          {(page.previous || page.next) && (
            <nav class="pagination" aria-label="Pages of cases">
              <span>
                {page.previous && (
                  <a class="button" href={pageLink(page.previous)} rel="prev">← Previous 50</a>
                )}
                {cursor && <a class="button cases-first-page" href={firstPage}>First page</a>}
              </span>
              <span>
                {page.next && <a class="button" href={pageLink(page.next)} rel="next">Next 50 →</a>}
              </span>
            </nav>
          )}
        </>
      ),
    });
  });
}

const FORM_FIELDS = ["status", "reason", "from", "to", "q", "sort"] as const;

/** The list of these filters at a URL that carries the search encrypted (303), or the form's problems. */
async function searchRedirect(c: Context<DashboardEnv>, deps: DashboardDeps, params: URLSearchParams) {
  const viewer = c.get("viewer");
  const context = { ring: deps.ring, companyId: viewer.companyId };
  const parsed = parseCaseQuery(params, context);
  if (Object.keys(parsed.errors).length > 0) return renderInvalidFilters(c, parsed);
  const query = await filterQuery(parsed.filters, context);
  return c.redirect(`/dashboard/${viewer.companyId}/cases${query.size ? `?${query}` : ""}`, 303);
}

function countWords(count: number, filtered: boolean): string {
  const what = filtered ? "matching cases" : "cases";
  if (count > COUNT_LIMIT) return `More than ${COUNT_LIMIT.toLocaleString("en-US")} ${what}.`;
  return count === 1
    ? (filtered ? "1 matching case." : "1 case.")
    : `${count.toLocaleString("en-US")} ${what}.`;
}

function emptyState(filtered: boolean, paged: boolean, firstPage: string, clearLink: string) {
  if (paged) {
    return (
      <EmptyState title="No more cases here">
        The list changed since this page link was made. <a href={firstPage}>Go to the first page</a>.
      </EmptyState>
    );
  }
  if (filtered) {
    return (
      <EmptyState title="No cases match these filters">
        Try a wider date range or another status, or{" "}
        <a href={clearLink}>clear all filters</a>. Search matches the start of a word of a member's name,
        email or username (“sar” finds Sarah), or a whole Whop id.
      </EmptyState>
    );
  }
  return (
    <EmptyState title="No recovery cases yet">
      A case opens when a member's payment fails or they schedule a cancellation. Churn Saver then nudges them
      on the schedule set in Settings, and every case shows up here with how it ended.
    </EmptyState>
  );
}

function renderInvalidFilters(c: Context<DashboardEnv>, parsed: ParsedCaseQuery) {
  const base = `/dashboard/${c.get("viewer").companyId}/cases`;
  const problems = Object.values(parsed.errors);
  return renderDashboard(c, {
    section: "cases",
    title: "Cases",
    styles: CASES_STYLES,
    status: 400,
    body: (
      <>
        <PageHeader title="Cases" subtitle="Every membership Churn Saver is working to keep." />
        <div class="notice error" role="alert">
          <strong>Some filters could not be used, so no cases are shown.</strong>
          <ul class="cases-problems">
            {problems.map((problem) => <li key={problem}>{problem}</li>)}
          </ul>
        </div>
        <CaseFilters action={base} raw={parsed.raw} errors={parsed.errors} />
        <p>
          <a href={base}>Show all cases</a>
        </p>
      </>
    ),
  });
}
