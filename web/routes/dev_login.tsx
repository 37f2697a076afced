// Local development entrance (APP_ENV=local only: the app does not mount it otherwise). Lists the
// companies in the local database with their cases by status; Whop-authenticated pages arrive with
// the dashboard issue.
import { Hono } from "hono";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { StatusCounts } from "../components/StatusCounts.tsx";
import { renderPage } from "../lib/render.tsx";

interface CompanyRow {
  company_id: string;
  title: string | null;
  counts: Record<string, number>;
}

export function devLoginRoutes(sql: Sql) {
  const routes = new Hono();
  routes.get("/dev/login", async (c) => {
    const companies = await sql<CompanyRow[]>`
      select c.company_id, c.title,
             coalesce((select jsonb_object_agg(status, n)
                       from (select status, count(*)::int as n from public.recovery_cases rc
                             where rc.company_id = c.company_id group by status) s), '{}') as counts
      from public.companies c
      order by c.company_id
      limit 50`;
    return renderPage(
      c,
      "Local login",
      <>
        <h1>Local login</h1>
        <p class="muted">
          Development only (<code>APP_ENV=local</code>). These are the companies in your local database.
        </p>
        {companies.length === 0
          ? (
            <p class="card">
              No companies yet. Run <code>scripts/dev.sh</code> without --no-seed to load the demo data.
            </p>
          )
          : companies.map((company) => (
            <section class="card" key={company.company_id} data-company-id={company.company_id}>
              <h2>{company.title ?? company.company_id}</h2>
              <span class="muted">{company.company_id}</span>
              <StatusCounts counts={company.counts} />
            </section>
          ))}
      </>,
    );
  });
  return routes;
}
