// Fixtures for the dashboard's case pages: a company of its own with an admin signed in the way
// Whop's proxy does (a sandbox user token), members with encrypted PII, cases, nudges, attempts,
// clicks and events, and the dashboard app in-process. Everything is deleted afterwards.
import { memberColumns } from "../../supabase/functions/_shared/crypto/member_columns.ts";
import { type KeyRing, loadKeyRing } from "../../supabase/functions/_shared/crypto/pii.ts";
import { createApp } from "../../web/app.ts";
import { connectAsOwner, dashboardEnv, sandboxControl, stackVar } from "./stack.ts";

export type OwnerSql = ReturnType<typeof connectAsOwner>;

export interface CaseInput {
  membershipId?: string;
  userId?: string | null;
  status?: "open" | "recovered" | "lost" | "expired" | "dismissed";
  reason?: "payment_failed" | "action_required" | "cancel_scheduled" | "membership_deactivated";
  openedAt?: Date;
  closedAt?: Date | null;
  attribution?: "click_through" | "nudged" | "organic" | null;
  amountMinor?: number | null;
  recoveredMinor?: number | null;
  currency?: string | null;
}

export interface TestCompany {
  companyId: string;
  userId: string;
  /** The admin's Whop user token, for requests made another way (a real HTTP server). */
  token: string;
  /** GET (or any method) as the company's admin; `path` starts with "/dashboard/...". */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** A same-origin form POST as the company's admin. */
  post(path: string, form?: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
  addMember(userId: string, pii: { email?: string; name?: string; username?: string }): Promise<void>;
  addCase(input?: CaseInput): Promise<string>;
}

export interface CaseHarness {
  sql: OwnerSql;
  ring: KeyRing;
  /** The dashboard app the companies' requests go to (to serve it over HTTP as well). */
  fetch: (request: Request) => Response | Promise<Response>;
  company(prefix: string): Promise<TestCompany>;
}

/** The origin the harness's requests are addressed to. */
export const HARNESS_ORIGIN = "http://dashboard.test";

/** `env`: dashboard variables on top of the stack's (dashboardEnv). */
export async function withCaseHarness(
  fn: (h: CaseHarness) => Promise<void>,
  options: { env?: Record<string, string> } = {},
) {
  const sql = connectAsOwner();
  const { app, close } = await createApp(dashboardEnv(options.env));
  const ring = await loadKeyRing(stackVar("ENCRYPTION_KEYS"));
  const companies: string[] = [];

  const company = async (prefix: string): Promise<TestCompany> => {
    const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
    const companyId = `biz_${prefix}${suffix}`;
    const userId = `user_admin_${prefix}${suffix}`;
    companies.push(companyId);
    await sql`insert into public.companies (company_id, title) values (${companyId}, ${`Test ${prefix}`})`;
    await sql`insert into public.company_settings (company_id, experience_id) values (${companyId}, 'exp_test')`;
    await sandboxControl("POST", "/fixtures", {
      access: [{ user_id: userId, resource_id: companyId, access_level: "admin" }],
    });
    const { token } = await sandboxControl("POST", "/user-token", {
      user_id: userId,
      app_id: stackVar("WHOP_APP_ID"),
    });
    let n = 0;

    const request = async (path: string, init: RequestInit = {}): Promise<Response> => {
      const headers = new Headers(init.headers);
      headers.set("x-whop-user-token", token);
      if (!headers.has("accept")) headers.set("accept", "text/html");
      return await app.fetch(
        new Request(`${HARNESS_ORIGIN}${path}`, { ...init, headers, redirect: "manual" }),
      );
    };
    return {
      companyId,
      userId,
      token,
      request,
      post: (path, form = {}, headers = {}) =>
        request(path, {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "sec-fetch-site": "same-origin",
            origin: HARNESS_ORIGIN,
            ...headers,
          },
          body: new URLSearchParams(form).toString(),
        }),
      addMember: async (memberId, pii) => {
        const m = memberColumns(ring, companyId, memberId, pii);
        await sql`
          insert into public.members (company_id, user_id, email_ciphertext, name_ciphertext, username_ciphertext,
                                      email_blind_index, search_tokens, last_event_at)
          values (${companyId}, ${memberId}, ${m.email_ciphertext}, ${m.name_ciphertext}, ${m.username_ciphertext},
                  ${m.email_blind_index}, ${m.search_tokens}, now())`;
      },
      addCase: async (input = {}) => {
        const status = input.status ?? "open";
        const openedAt = input.openedAt ?? new Date(Date.now() - 3_600_000);
        const closedAt = input.closedAt !== undefined
          ? input.closedAt
          : status === "open"
          ? null
          : new Date(openedAt.getTime() + 86_400_000);
        const attribution = input.attribution !== undefined
          ? input.attribution
          : status === "recovered"
          ? "organic"
          : null;
        const [row] = await sql<{ id: string }[]>`
          insert into public.recovery_cases (company_id, membership_id, user_id, status, reason, opened_at, closed_at,
                                             attribution, amount_at_risk_minor, recovered_amount_minor, currency)
          values (${companyId}, ${input.membershipId ?? `mem_${suffix}_${++n}`}, ${
          input.userId ?? null
        }, ${status},
                  ${input.reason ?? "payment_failed"}, ${openedAt}, ${closedAt}, ${attribution},
                  ${input.amountMinor === undefined ? 2999 : input.amountMinor}, ${
          input.recoveredMinor ?? null
        },
                  ${input.currency === undefined ? "usd" : input.currency})
          returning id`;
        return row.id;
      },
    };
  };

  try {
    await fn({ sql, ring, fetch: app.fetch, company });
  } finally {
    if (companies.length > 0) await sql`delete from public.companies where company_id = any(${companies})`;
    await close();
    await sql.end();
  }
}

/** The case ids a list page links to, in page order. */
export function linkedCaseIds(html: string, companyId: string): string[] {
  const pattern = new RegExp(`href="/dashboard/${companyId}/cases/([0-9a-f-]{36})"`, "g");
  return [...html.matchAll(pattern)].map((match) => match[1]);
}

/** The href of the link with this rel (pagination), HTML entities undone. */
export function relLink(html: string, rel: "next" | "prev"): string | null {
  const match = new RegExp(`<a[^>]*href="([^"]+)"[^>]*rel="${rel}"`).exec(html) ??
    new RegExp(`<a[^>]*rel="${rel}"[^>]*href="([^"]+)"`).exec(html);
  return match ? match[1].replaceAll("&amp;", "&") : null;
}
