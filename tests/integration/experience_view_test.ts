// The experience view a push notification's tap opens (/experiences/<id>/recover/<case>), through
// the real dashboard app and database: the case's own member is sent where the recovery link goes
// and the tap is recorded as a click; anyone else gets nothing; no destination gives a member page.
import assert from "node:assert/strict";
import { createApp as createDashboardApp } from "../../web/app.ts";
import { userToken } from "../support/dashboard.ts";
import { connectAsOwner, dashboardEnv } from "../support/stack.ts";

const HTML = { accept: "text/html" };

async function withCase(
  urls: { recovery_url: string | null; manage_url: string | null },
  fn: (ctx: {
    caseId: string;
    memberId: string;
    get: (path: string, token?: string, headers?: Record<string, string>) => Promise<Response>;
    clicks: () => Promise<number>;
  }) => Promise<void>,
) {
  const sql = connectAsOwner();
  const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  const companyId = `biz_exp${tag}`;
  const memberId = `user_exp${tag}`;
  await sql`insert into public.companies (company_id, title) values (${companyId}, 'Yoga With Ana')`;
  const [row] = await sql<{ id: string }[]>`
    insert into public.recovery_cases (company_id, membership_id, user_id, reason, opened_at, recovery_url, manage_url)
    values (${companyId}, ${`mem_exp${tag}`}, ${memberId}, 'payment_failed', now(), ${urls.recovery_url},
            ${urls.manage_url})
    returning id`;
  const { app, close } = await createDashboardApp(dashboardEnv());
  try {
    await fn({
      caseId: row.id,
      memberId,
      get: async (path, token, headers = {}) =>
        await app.request(path, {
          headers: { ...headers, ...(token ? { "x-whop-user-token": token } : {}) },
        }),
      clicks: async () =>
        (await sql`select count(*)::int as n from public.link_clicks where case_id = ${row.id}`)[0].n,
    });
  } finally {
    await close();
    await sql`delete from public.companies where company_id = ${companyId}`;
    await sql.end();
  }
}

Deno.test("a push tap by the case's member lands on the membership's manage_url and counts as a click", async () => {
  const manage = "https://whop.com/billing/manage/mem_exp_1/";
  await withCase({ recovery_url: null, manage_url: manage }, async ({ caseId, memberId, get, clicks }) => {
    const response = await get(`/experiences/exp_Demo123/recover/${caseId}`, await userToken(memberId));
    assert.equal(response.status, 302);
    assert.equal(response.headers.get("location"), manage);
    assert.equal(await clicks(), 1);
  });
});

Deno.test("someone other than the case's member learns nothing and records nothing", async () => {
  await withCase(
    { recovery_url: "https://whop.com/pay/x/", manage_url: null },
    async ({ caseId, get, clicks }) => {
      const response = await get(
        `/experiences/exp_Demo123/recover/${caseId}`,
        await userToken("user_someone_else"),
      );
      assert.equal(response.status, 404);
      const body = await response.json();
      assert.equal(body.error.code, "not_found");
      assert.equal(JSON.stringify(body).includes("whop.com/pay"), false);
      assert.equal(await clicks(), 0);
    },
  );
});

Deno.test("without a verified Whop user token the experience view answers 401", async () => {
  await withCase(
    { recovery_url: "https://whop.com/pay/x/", manage_url: null },
    async ({ caseId, get, clicks }) => {
      assert.equal((await get(`/experiences/exp_Demo123/recover/${caseId}`)).status, 401);
      assert.equal((await get(`/experiences/exp_Demo123/recover/${caseId}`, "not-a-jwt")).status, 401);
      assert.equal(await clicks(), 0);
    },
  );
});

Deno.test("with nowhere to go, the member sees a page in the creator's name with a way into Whop", async () => {
  await withCase({ recovery_url: null, manage_url: null }, async ({ caseId, memberId, get, clicks }) => {
    const response = await get(`/experiences/exp_Demo123/recover/${caseId}`, await userToken(memberId), HTML);
    assert.equal(response.status, 200);
    const page = await response.text();
    assert.match(page, /Yoga With Ana/);
    assert.match(page, /Open Whop/);
    assert.doesNotMatch(page, /Churn Saver/);
    assert.equal(await clicks(), 1, "the tap is still on the case's timeline");
  });
});

Deno.test("other experience paths get the member page, not a JSON 404", async () => {
  await withCase({ recovery_url: null, manage_url: null }, async ({ memberId, get }) => {
    const token = await userToken(memberId);
    const response = await get("/experiences/exp_Demo123/", token, HTML);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /Open Whop/);
    assert.equal((await get("/experiences/exp_Demo123/recover/not-a-case", token)).status, 200);
    assert.equal((await get("/experiences/exp_Demo123/recover/%E0%A4%A", token)).status, 200, "bad escapes");
    assert.equal((await get("/experiences/not_an_experience/recover/x", token)).status, 404);
  });
});
