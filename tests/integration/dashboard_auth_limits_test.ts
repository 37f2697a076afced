// Dashboard authentication cannot spend Whop's access-check quota for everyone (issue 11 item 5):
// answers are cached (denials too), each user may cause only a few access checks at a time, and checks
// about companies not installed yet (which an admin's first visit installs, issue 13) share one small
// budget for the whole app. Against the stack's sandbox, with its
// imitation of Whop's real limit (600 calls a minute per operation for our whole app) switched on, so
// a flood that got through to Whop would lock a real admin out.
import assert from "node:assert/strict";
import { createApp } from "../../web/app.ts";
import { DEFAULT_ACCESS_CHECK_LIMITS } from "../../web/lib/whop_auth.ts";
import { accessChecks, grantAccess, userToken } from "../support/dashboard.ts";
import { connectAsOwner, dashboardEnv, sandboxControl } from "../support/stack.ts";

// Ids with a single underscore: the sandbox then counts every user's check as one operation, as Whop does.
const hex = () => crypto.randomUUID().replaceAll("-", "").slice(0, 12);

async function withDashboard(
  fn: (ctx: {
    sql: ReturnType<typeof connectAsOwner>;
    install: (companyId: string) => Promise<void>;
    /** Removes this company's rows after the test (one a visit installed). */
    cleanUp: (companyId: string) => void;
    get: (token: string, path: string, accept?: string) => Promise<Response>;
  }) => Promise<void>,
) {
  const sql = connectAsOwner();
  const { app, close } = await createApp(dashboardEnv());
  const installed: string[] = [];
  try {
    await fn({
      sql,
      install: async (companyId) => {
        installed.push(companyId);
        await sql`insert into public.companies (company_id, title) values (${companyId}, 'Limits Co')`;
        await sql`insert into public.company_settings (company_id) values (${companyId})`;
      },
      cleanUp: (companyId) => void installed.push(companyId),
      get: async (token, path, accept = "application/json") =>
        await app.fetch(
          new Request(`http://dashboard.test${path}`, { headers: { "x-whop-user-token": token, accept } }),
        ),
    });
  } finally {
    if (installed.length) await sql`delete from public.companies where company_id = any(${installed})`;
    await close();
    await sql.end();
  }
}

Deno.test("650 requests from a user with no access cost a handful of Whop checks; a real admin is served throughout", async () => {
  await withDashboard(async ({ sql, install, get }) => {
    const attacker = `user_flood${hex()}`;
    const admin = `user_floodadmin${hex()}`;
    const installedIds = Array.from({ length: 12 }, () => `biz_floodvictim${hex()}`);
    for (const id of installedIds) await install(id);
    const [own, ownSecond] = [`biz_floodadmin${hex()}`, `biz_floodadmintwo${hex()}`];
    await install(own);
    await install(ownSecond);
    await grantAccess(admin, own);
    await grantAccess(admin, ownSecond);
    const attackerToken = await userToken(attacker);
    const adminToken = await userToken(admin);

    await sandboxControl("PUT", "/settings", { rate_limit_per_minute: 600 });
    try {
      const adminStatuses: number[] = [];
      const adminGet = async (companyId: string, page: string) => {
        const response = await get(adminToken, `/dashboard/${companyId}${page}`, "text/html");
        adminStatuses.push(response.status);
        await response.body?.cancel();
      };
      await adminGet(own, "");

      // 13 waves of 50 at once: first the installed companies, each several times and more of them
      // than the user's burst, then 600 well-formed ids of companies that never installed Churn Saver
      // (asked one by one, they would be more than Whop allows a minute).
      const answers: { companyId: string; status: number; code?: string; retryAfter: string | null }[] = [];
      const started = performance.now();
      for (let wave = 0; wave < 13; wave++) {
        const ids = Array.from(
          { length: 50 },
          (_, i) => wave === 0 ? installedIds[i % installedIds.length] : `biz_nothere${hex()}`,
        );
        await Promise.all(ids.map(async (companyId) => {
          const response = await get(attackerToken, `/dashboard/${companyId}/cases`);
          const body = await response.json();
          answers.push({
            companyId,
            status: response.status,
            code: body.error?.code,
            retryAfter: response.headers.get("retry-after"),
          });
        }));
        // The admin keeps working meanwhile.
        await adminGet(own, ["", "/cases", "/settings", "/activity"][wave % 4]);
      }
      const elapsedSeconds = (performance.now() - started) / 1000;
      // Then they open their other company: its check reaches Whop after the whole flood.
      await adminGet(ownSecond, "/cases");
      await adminGet(own, "/settings");

      assert.equal(answers.length, 650);
      assert.deepEqual(adminStatuses, adminStatuses.map(() => 200), "every admin request is served");

      const notInstalled = answers.filter((answer) => !installedIds.includes(answer.companyId));
      assert.equal(notInstalled.length, 600);
      assert.ok(
        notInstalled.every((answer) => answer.status === 403 || answer.status === 429),
        "a company not installed: 403 once Whop said no, else 429",
      );
      const victims = answers.filter((answer) => installedIds.includes(answer.companyId));
      assert.ok(
        victims.every((answer) => answer.status === 403 || answer.status === 429),
        "403 or 429, never 5xx",
      );
      const limited = victims.filter((answer) => answer.status === 429);
      assert.ok(limited.length > 0, "checks beyond the user's burst are refused");
      assert.ok(
        limited.every((answer) => answer.code === "too_many_requests" && Number(answer.retryAfter) > 0),
      );

      const checks = await accessChecks(attacker);
      const { checksPerUserBurst, checkRefillSeconds } = DEFAULT_ACCESS_CHECK_LIMITS;
      const allowed = checksPerUserBurst + Math.floor(elapsedSeconds / checkRefillSeconds);
      assert.ok(
        checks.length >= 1 && checks.length <= allowed,
        `${checks.length} Whop checks for 650 requests in ${
          elapsedSeconds.toFixed(1)
        } s (at most ${allowed})`,
      );
      const [{ n: probedInstalled }] = await sql<{ n: number }[]>`
        select count(*)::int as n from public.companies
        where company_id = any(${notInstalled.map((answer) => answer.companyId)})`;
      assert.equal(probedInstalled, 0, "a user with no access installs no company");
      assert.ok(checks.every((call) => call.status === 200), "Whop's quota was never exhausted");
      const adminChecks = await accessChecks(admin);
      assert.ok(adminChecks.length >= 2 && adminChecks.every((call) => call.status === 200));
    } finally {
      await sandboxControl("PUT", "/settings", { rate_limit_per_minute: null });
    }
  });
});

Deno.test("an admin's first visit installs a company with default settings; a customer's installs nothing", async () => {
  await withDashboard(async ({ sql, cleanUp, get }) => {
    const companyId = `biz_firstvisit${hex()}`;
    cleanUp(companyId);
    const customer = `user_firstcustomer${hex()}`;
    const admin = `user_firstadmin${hex()}`;
    await grantAccess(customer, companyId, "customer");
    await grantAccess(admin, companyId);
    const rows = async () =>
      (await sql<{ n: number }[]>`
        select (select count(*) from public.companies where company_id = ${companyId})
             + (select count(*) from public.company_settings where company_id = ${companyId}) as n`)[0].n;

    const refused = await get(await userToken(customer), `/dashboard/${companyId}`);
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).error.code, "forbidden");
    assert.equal(Number(await rows()), 0, "a customer's visit installs nothing");
    assert.equal((await accessChecks(customer)).length, 1, "Whop was asked once");

    const page = await get(await userToken(admin), `/dashboard/${companyId}/settings`, "text/html");
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Finish setting up Churn Saver/);
    assert.equal(Number(await rows()), 2, "the company and its settings row exist");
    const [settings] = await sql`
      select incentive_free_days, time_zone, time_zone_chosen_at, incentive_chosen_at
      from public.company_settings where company_id = ${companyId}`;
    assert.deepEqual({ ...settings }, {
      incentive_free_days: 3,
      time_zone: "UTC",
      time_zone_chosen_at: null,
      incentive_chosen_at: null,
    });
    // Installed now: the next page asks Whop nothing more (the grant is cached).
    const again = await get(await userToken(admin), `/dashboard/${companyId}`, "text/html");
    assert.equal(again.status, 200);
    await again.body?.cancel();
    assert.equal((await accessChecks(admin)).length, 1);
  });
});

Deno.test("checks about companies not installed share one budget for the whole app, whoever asks", async () => {
  await withDashboard(async ({ sql, get }) => {
    const { firstVisitChecksBurst, firstVisitRefillSeconds } = DEFAULT_ACCESS_CHECK_LIMITS;
    // More users than the budget, each asking about one unknown company once (within their own burst).
    const users = Array.from({ length: firstVisitChecksBurst + 6 }, () => `user_prober${hex()}`);
    const tokens = await Promise.all(users.map((user) => userToken(user)));
    const ids = users.map(() => `biz_neverhere${hex()}`);
    const started = performance.now();
    const answers = await Promise.all(tokens.map(async (token, i) => {
      const response = await get(token, `/dashboard/${ids[i]}`);
      return { status: response.status, body: await response.json() };
    }));
    const elapsedSeconds = (performance.now() - started) / 1000;
    const limited = answers.filter((answer) => answer.status === 429);
    assert.ok(answers.every((answer) => answer.status === 403 || answer.status === 429));
    assert.ok(
      limited.length >=
        users.length - firstVisitChecksBurst - Math.ceil(elapsedSeconds / firstVisitRefillSeconds),
    );
    assert.ok(limited.every((answer) => /new companies are being set up/.test(answer.body.error.message)));
    const checks = (await Promise.all(users.map((user) => accessChecks(user)))).flat();
    assert.ok(
      checks.length <= firstVisitChecksBurst + Math.ceil(elapsedSeconds / firstVisitRefillSeconds),
      `${checks.length} Whop checks for ${users.length} first visits`,
    );
    const [{ n }] = await sql<{ n: number }[]>`
      select count(*)::int as n from public.companies where company_id = any(${ids})`;
    assert.equal(n, 0);
  });
});

Deno.test("Whop's denials are cached like its grants: repeated requests ask Whop once", async () => {
  await withDashboard(async ({ install, get }) => {
    const companyId = `biz_denied${hex()}`;
    await install(companyId);
    const customer = `user_customer${hex()}`;
    await grantAccess(customer, companyId, "customer");
    const token = await userToken(customer);
    for (let i = 0; i < 4; i++) {
      const response = await get(token, `/dashboard/${companyId}/cases`);
      assert.equal(response.status, 403);
      assert.equal((await response.json()).error.code, "forbidden");
    }
    assert.equal((await accessChecks(customer)).length, 1);

    // Concurrent first requests share one check.
    const admin = `user_concurrent${hex()}`;
    await grantAccess(admin, companyId);
    const adminToken = await userToken(admin);
    const statuses = await Promise.all(Array.from({ length: 8 }, async () => {
      const response = await get(adminToken, `/dashboard/${companyId}`, "text/html");
      await response.body?.cancel();
      return response.status;
    }));
    assert.deepEqual(statuses, Array(8).fill(200));
    assert.equal((await accessChecks(admin)).length, 1);
  });
});
