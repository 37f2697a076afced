// Local development entrance (APP_ENV=local only: the app does not mount it otherwise). Whop's
// proxy is not in front of the local dashboard, so this stands in for it: it makes a local user an
// admin of the chosen company in the Whop sandbox, gets a real (sandbox-signed) user token, and
// keeps it in a cookie that only the local dashboard reads. The token is verified like any other.
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { badRequest, HttpError } from "../../supabase/functions/_shared/http.ts";
import { StatusCounts } from "../components/StatusCounts.tsx";
import { renderPage } from "../lib/render.tsx";
import { COMPANY_ID_PATTERN, DEV_TOKEN_COOKIE } from "./dashboard/context.ts";

interface CompanyRow {
  company_id: string;
  title: string | null;
  counts: Record<string, number>;
}

export const DEV_ADMIN_USER = "user_dev_admin";

export function devLoginRoutes(sql: Sql, whop: { whopApiBaseUrl: string; appId: string }) {
  const routes = new Hono();
  const sandboxUrl = whop.whopApiBaseUrl.replace(/\/api\/v1\/?$/, "");

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
          Development only (<code>APP_ENV=local</code>). Open a company's dashboard as a local admin.
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
              <form method="post" action="/dev/login" class="inline-form">
                <input type="hidden" name="company_id" value={company.company_id} />
                <button type="submit" class="button primary">Open dashboard</button>
              </form>
            </section>
          ))}
      </>,
    );
  });

  routes.post("/dev/login", async (c) => {
    const form = await c.req.parseBody();
    const companyId = String(form.company_id ?? "");
    if (!COMPANY_ID_PATTERN.test(companyId)) {
      throw badRequest("company_id must be a Whop company id (biz_...).");
    }
    const grant = await fetch(`${sandboxUrl}/_sandbox/fixtures`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        access: [{ user_id: DEV_ADMIN_USER, resource_id: companyId, access_level: "admin" }],
      }),
    }).catch(() => null);
    const minted = await fetch(`${sandboxUrl}/_sandbox/user-token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user_id: DEV_ADMIN_USER, app_id: whop.appId, expires_in_seconds: 8 * 3600 }),
    }).catch(() => null);
    if (!grant?.ok || !minted?.ok) {
      await grant?.body?.cancel();
      await minted?.body?.cancel();
      throw new HttpError(
        503,
        "sandbox_unavailable",
        `The Whop sandbox at ${sandboxUrl} did not answer. Is scripts/dev.sh running?`,
      );
    }
    await grant.body?.cancel();
    const { token } = await minted.json() as { token: string };
    setCookie(c, DEV_TOKEN_COOKIE, token, { httpOnly: true, sameSite: "Lax", path: "/dashboard" });
    return c.redirect(`/dashboard/${companyId}`, 303);
  });
  return routes;
}
