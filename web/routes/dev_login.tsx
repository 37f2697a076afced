// Local development entrance (APP_ENV=local only: the app does not mount it otherwise). Whop's
// proxy is not in front of the local dashboard, so this stands in for it: it makes a local user an
// admin of the chosen company in the Whop sandbox, gets a real (sandbox-signed) user token, and
// keeps it in a cookie that only the local dashboard reads. The token is verified like any other.
// Any company id can be opened, also one Churn Saver has never heard of: the dashboard installs a
// company on its admin's first visit, so this is how a brand-new creator's set-up is tried locally.
// A new company also gets two sandbox experiences, so the settings page has some to choose from.
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

/** The sandbox experiences a new company gets (ids derived from the company's, so a second login
 * replaces them instead of adding more). */
export function devExperiences(companyId: string, appId: string) {
  const tag = companyId.slice("biz_".length, "biz_".length + 50);
  return [
    { id: `exp_chat_${tag}`, company_id: companyId, app_id: appId, name: "Members chat", order: "1" },
    { id: `exp_course_${tag}`, company_id: companyId, app_id: appId, name: "Trading course", order: "2" },
  ];
}

function suggestedCompanyId(): string {
  return `biz_new${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
}

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
        <section class="card" data-testid="new-company">
          <h2>A new company</h2>
          <p class="muted">
            Opens the dashboard of a company with no data yet, as a creator who has just installed Churn
            Saver: its first visit sets it up.
          </p>
          <form method="post" action="/dev/login" class="inline-form">
            <input type="hidden" name="new_company" value="1" />
            <label for="new-company-id">Company id</label>{" "}
            <input
              id="new-company-id"
              type="text"
              name="company_id"
              value={suggestedCompanyId()}
              spellcheck={false}
              required
            />{" "}
            <button type="submit" class="button primary">Open new company</button>
          </form>
        </section>
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
    const companyId = String(form.company_id ?? "").trim();
    if (!COMPANY_ID_PATTERN.test(companyId)) {
      throw badRequest("company_id must be a Whop company id (biz_...).");
    }
    const grant = await fetch(`${sandboxUrl}/_sandbox/fixtures`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        access: [{ user_id: DEV_ADMIN_USER, resource_id: companyId, access_level: "admin" }],
        experiences: form.new_company ? devExperiences(companyId, whop.appId) : [],
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
