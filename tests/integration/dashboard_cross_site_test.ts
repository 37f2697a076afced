// One cross-site (CSRF) check for every dashboard POST (web/lib/cross_site.ts): the settings form and
// each case action refuse the same requests with the same answer and change nothing, accept the same
// ones, and trust no client-supplied X-Forwarded-Host; only the origins configured in
// DASHBOARD_ALLOWED_ORIGINS (where Whop's proxy serves the app) count besides the request's own host.
import assert from "node:assert/strict";
import { settingsToForm } from "../../web/components/settings/form_model.ts";
import { createApp } from "../../web/app.ts";
import { CROSS_SITE_MESSAGE } from "../../web/lib/cross_site.ts";
import { DEFAULT_SETTINGS } from "../../web/queries/settings.ts";
import {
  HARNESS_ORIGIN,
  type OwnerSql,
  type TestCompany,
  withCaseHarness,
} from "../support/case_fixtures.ts";
import { crossSiteAttempts, settingsFormBody } from "../support/dashboard.ts";
import { dashboardEnv } from "../support/stack.ts";

const WHOP_PROXY_ORIGIN = "https://churnsaver.apps.whop.test";

/** Every POST route of the dashboard, each with a body it would accept, on a fresh open case. */
async function postRoutes(company: TestCompany) {
  const settingsBody = settingsFormBody({ ...settingsToForm(DEFAULT_SETTINGS), send_hour: "3" }).toString();
  const caseId = await company.addCase();
  const base = `/dashboard/${company.companyId}`;
  return {
    caseId,
    routes: [
      ["settings", `${base}/settings`, settingsBody],
      ["nudge", `${base}/cases/${caseId}/actions/nudge`, "channel=push"],
      ["dismiss", `${base}/cases/${caseId}/actions/dismiss`, ""],
      ["cancel-membership", `${base}/cases/${caseId}/actions/cancel-membership`, ""],
    ] as const,
  };
}

async function nothingChanged(sql: OwnerSql, company: TestCompany, caseId: string) {
  const [settings] =
    await sql`select send_hour from public.company_settings where company_id = ${company.companyId}`;
  assert.equal(settings.send_hour, DEFAULT_SETTINGS.send_hour, "settings unchanged");
  const [row] = await sql`select status from public.recovery_cases where id = ${caseId}`;
  assert.equal(row.status, "open", "the case is still open");
  assert.equal(
    (await sql`select 1 from public.job_queue where case_id = ${caseId}`).length,
    0,
    "no nudge queued",
  );
  assert.equal((await sql`select 1 from public.audit_log where company_id = ${company.companyId}`).length, 0);
}

Deno.test("cross-site POSTs are refused the same way on settings and on every case action", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("csrf");
    const { caseId, routes } = await postRoutes(a);
    const attempts = [
      ...crossSiteAttempts(HARNESS_ORIGIN),
      // Our own host claimed through the header a client can set: still another site's Origin.
      [
        "X-Forwarded-Host naming our host",
        {
          "sec-fetch-site": "same-origin",
          origin: "https://evil.example",
          "x-forwarded-host": new URL(HARNESS_ORIGIN).host,
        },
      ],
    ] as Array<[string, Record<string, string>]>;
    for (const [route, path, body] of routes) {
      for (const [name, headers] of attempts) {
        const response = await a.request(path, {
          method: "POST",
          headers: {
            accept: "application/json",
            "content-type": "application/x-www-form-urlencoded",
            ...headers,
          },
          body,
        });
        assert.equal(response.status, 403, `${route}: ${name}`);
        assert.deepEqual(
          await response.json(),
          { error: { code: "cross_site_request", message: CROSS_SITE_MESSAGE } },
          `${route}: ${name}`,
        );
      }
    }
    await nothingChanged(sql, a, caseId);
  });
});

Deno.test("the same-origin, configured-origin and header-less POSTs are accepted alike on every route", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("csrfok");
    const accepted: Array<[string, Record<string, string>]> = [
      ["our own origin", { "sec-fetch-site": "same-origin", origin: HARNESS_ORIGIN }],
      ["the origin Whop's proxy serves the app under", {
        "sec-fetch-site": "same-origin",
        origin: WHOP_PROXY_ORIGIN,
      }],
      ["no Fetch Metadata and no Origin (not a browser)", {}],
    ];
    for (const [name, headers] of accepted) {
      const { routes } = await postRoutes(a);
      for (const [route, path, body] of routes) {
        const response = await a.request(path, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
          body,
        });
        assert.equal(response.status, 303, `${route}: ${name}`);
        await response.body?.cancel();
      }
    }
    const [settings] =
      await sql`select send_hour from public.company_settings where company_id = ${a.companyId}`;
    assert.equal(settings.send_hour, 3);
  }, { env: { DASHBOARD_ALLOWED_ORIGINS: `${WHOP_PROXY_ORIGIN}, https://other.apps.whop.test` } });
});

Deno.test("without DASHBOARD_ALLOWED_ORIGINS another origin is refused, X-Forwarded-Host or not", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("csrfcfg");
    const { caseId, routes } = await postRoutes(a);
    for (const [route, path, body] of routes) {
      const withAndWithoutForwardedHost: Record<string, string>[] = [
        {},
        { "x-forwarded-host": new URL(WHOP_PROXY_ORIGIN).host },
      ];
      for (const forwarded of withAndWithoutForwardedHost) {
        const response = await a.request(path, {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "sec-fetch-site": "same-origin",
            origin: WHOP_PROXY_ORIGIN,
            ...forwarded,
          },
          body,
        });
        assert.equal(response.status, 403, `${route} ${JSON.stringify(forwarded)}`);
        assert.match(await response.text(), /This request was refused/);
      }
    }
    await nothingChanged(sql, a, caseId);
  });
});

Deno.test("the check runs before authentication, and a bad DASHBOARD_ALLOWED_ORIGINS stops the server", async () => {
  await withCaseHarness(async ({ fetch, company }) => {
    const a = await company("csrfnotoken");
    // No Whop session at all: refused as cross-site, before any access check.
    const response = await fetch(
      new Request(`${HARNESS_ORIGIN}/dashboard/${a.companyId}/settings`, {
        method: "POST",
        headers: { origin: "https://evil.example", accept: "application/json" },
      }),
    );
    assert.equal(response.status, 403);
    assert.equal((await response.json()).error.code, "cross_site_request");
  });
  for (const bad of ["https://x.apps.whop.test/dashboard", "x.apps.whop.test", "ftp://x.example", "null"]) {
    await assert.rejects(
      createApp(dashboardEnv({ DASHBOARD_ALLOWED_ORIGINS: bad })),
      /DASHBOARD_ALLOWED_ORIGINS must list origins/,
      bad,
    );
  }
});
