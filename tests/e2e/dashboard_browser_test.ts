// A creator's visit to the dashboard in a real browser (Debian's Chromium through playwright-core),
// against the running stack, signed in the way Whop's proxy does it (x-whop-user-token on every
// request): the KPIs match the database, cases filter and search, a case opens, "nudge now"
// reaches the Whop sandbox, a changed setting is used by the next nudge, the CSV downloads with the
// right rows, and another company's dashboard is refused. Screenshots of each page are written to
// test-artifacts/screenshots/.
import assert from "node:assert/strict";
import { membershipEvent, paymentEvent } from "../../whop-sandbox/payloads.ts";
import { screenshot, withBrowser } from "../support/browser.ts";
import { adminToken } from "../support/dashboard.ts";
import { isolateQueue, sandbox, withDispatchApp } from "../support/dispatch.ts";
import { connectAsOwner, stack } from "../support/stack.ts";
import { enableEverything, signedRequest, uniqueCompany, withWebhookApp } from "../support/webhooks.ts";

Deno.test({
  name: "dashboard in a browser: KPIs, cases, nudge now, settings, CSV, and no access to another company",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const sql = connectAsOwner();
    try {
      await enableEverything(sql);
      const companyId = uniqueCompany("e2e");
      await isolateQueue(sql, companyId);
      await sql`insert into public.companies (company_id, title) values (${companyId}, 'E2E Academy')`;
      await sql`insert into public.company_settings (company_id, experience_id) values (${companyId}, 'exp_e2e')`;
      const tag = companyId.slice(4);
      const member = (name: string) => ({
        userId: `user_${name}_${tag}`,
        membershipId: `mem_${name}_${tag}`,
        email: `${name}.${tag}@example.com`,
        name: `${name[0].toUpperCase()}${name.slice(1)} Tester`,
      });
      const [alice, bob, carol, dave] = ["alice", "bob", "carol", "dave"].map(member);
      const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();
      const deliver = (bodies: unknown[]) =>
        withWebhookApp(async ({ send }) => {
          for (const body of bodies) assert.equal((await send(await signedRequest(body))).status, 200);
        });
      await deliver([
        ...[alice, bob, carol].map((m) =>
          paymentEvent("payment.failed", { companyId, ...m, amount: 25, timestamp: hoursAgo(5) })
        ),
        paymentEvent("payment.succeeded", { companyId, ...carol, amount: 25, timestamp: hoursAgo(2) }),
        membershipEvent("membership.deactivated", { companyId, ...bob, timestamp: hoursAgo(1) }),
      ]);
      const count = async (status: string) =>
        (await sql`select count(*)::int as n from public.recovery_cases where company_id = ${companyId} and status = ${status}`)[
          0
        ].n;

      const { token } = await adminToken(companyId);
      const base = `${stack.dashboardUrl}/dashboard/${companyId}`;
      await withBrowser(token, async (page) => {
        // Overview: the tiles say what the database says.
        await page.goto(base);
        assert.equal(
          Number(await page.getAttribute('[data-kpi="open_cases"]', "data-value")),
          await count("open"),
        );
        assert.equal(
          Number(await page.getAttribute('[data-kpi="recovered_cases"]', "data-value")),
          await count("recovered"),
        );
        assert.equal(await count("open"), 1);
        await screenshot(page, "01-overview");

        // Cases: filter by status, then search by exact email.
        await page.goto(`${base}/cases`);
        assert.equal(await page.locator("a.cases-row-link").count(), 3);
        await screenshot(page, "02-cases");
        await page.selectOption('select[name="status"]', "lost");
        await Promise.all([page.waitForNavigation(), page.click("text=Apply filters")]);
        assert.equal(await page.locator("a.cases-row-link").count(), 1);
        await page.selectOption('select[name="status"]', "");
        await page.fill('input[name="q"]', alice.email.toUpperCase());
        await Promise.all([page.waitForNavigation(), page.click("text=Apply filters")]);
        assert.equal(await page.locator("a.cases-row-link").count(), 1, "exact email search finds Alice");

        // Her case, and a manual nudge by DM.
        await Promise.all([page.waitForNavigation(), page.locator("a.cases-row-link").first().click()]);
        assert.match(await page.content(), /Alice Tester/);
        await screenshot(page, "03-case");
        await Promise.all([page.waitForNavigation(), page.click("text=Nudge now")]);
        await page.check('input[name="channel"][value="dm"]');
        await screenshot(page, "04-nudge-confirm");
        await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]);
        assert.ok(
          await page.locator('.notice[role="status"]').isVisible(),
          "the page says the nudge is on its way",
        );
        const [manual] =
          await sql`select j.id from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
                                   where rc.company_id = ${companyId} and j.origin = 'manual'`;
        assert.ok(manual, "a manual job exists");
        await withDispatchApp(async (dispatch) => void await dispatch());
        const dm = (await sandbox.calls("/api/v1/messages")).find((call) =>
          call.idempotency_key === `job:${manual.id}:message`
        );
        assert.ok(dm, "the sandbox received the manual DM");
        assert.match(String(dm.body!.content), /Alice/);

        // Settings: a new DM text for the first nudge, used by the next case's nudge.
        await page.goto(`${base}/settings`);
        await page.fill(
          'textarea[name="templates.dm.0.content"]',
          "Hello from the E2E test, {first_name}: {recovery_link}",
        );
        // Its settings row was made by hand, so the free days were never chosen: the form asks.
        await page.check('input[name="incentive_choice"][value="free_days"]');
        await Promise.all([page.waitForNavigation(), page.click("text=Save settings")]);
        await screenshot(page, "05-settings");
        await deliver([
          paymentEvent("payment.failed", { companyId, ...dave, amount: 25, timestamp: hoursAgo(0.1) }),
        ]);
        await withDispatchApp(async (dispatch) => void await dispatch());
        const [daveDm] =
          await sql`select j.id from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
                                   where rc.company_id = ${companyId} and rc.user_id = ${dave.userId} and j.channel = 'dm' and j.step = 0`;
        const daveCall = (await sandbox.calls("/api/v1/messages")).find((call) =>
          call.idempotency_key === `job:${daveDm.id}:message`
        );
        assert.match(String(daveCall?.body?.content), /Hello from the E2E test, Dave/);

        // The CSV of all cases.
        await page.goto(`${base}/cases`);
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.click("text=Download CSV"),
        ]);
        const csv = await Deno.readTextFile((await download.path())!);
        const rows = csv.trim().split(/\r?\n/);
        assert.equal(rows.length, 1 + 4, "a header and the four cases");
        for (const m of [alice, bob, carol, dave]) assert.ok(csv.includes(m.email), `${m.email} in the CSV`);

        // Activity shows what happened.
        await page.goto(`${base}/activity`);
        assert.ok((await page.locator("main").innerText()).length > 0);
        await screenshot(page, "06-activity");

        // Another company's dashboard: refused.
        const other = uniqueCompany("e2eother");
        await sql`insert into public.companies (company_id, title) values (${other}, 'Not Yours Inc')`;
        const refused = await page.goto(`${stack.dashboardUrl}/dashboard/${other}`);
        assert.equal(refused?.status(), 403);
        assert.ok(!(await page.content()).includes("Not Yours Inc"));
        await screenshot(page, "07-other-company-403");
      });
    } finally {
      await sql.end();
    }
  },
});
