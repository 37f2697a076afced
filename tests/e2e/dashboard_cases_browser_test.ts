// A creator finding a member and reading why their case exists, in a real browser against the running
// stack, with cases made by real signed webhooks: the list shows name, email and product; typing the
// start of a first name finds the member (and the URL never carries it); a failed payment's case says
// what Whop said; a cancellation's says the reason the member picked and their own words, and does
// not count failed payments. Screenshots under test-artifacts/screenshots/.
import assert from "node:assert/strict";
import { membershipEvent, paymentEvent } from "../../whop-sandbox/payloads.ts";
import { screenshot, withBrowser } from "../support/browser.ts";
import { adminToken } from "../support/dashboard.ts";
import { connectAsOwner, stack } from "../support/stack.ts";
import { enableEverything, signedRequest, uniqueCompany, withWebhookApp } from "../support/webhooks.ts";

Deno.test({
  name:
    "cases in a browser: name, email and product listed, name-prefix search, the reasons on the case page",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const sql = connectAsOwner();
    const companyId = uniqueCompany("e2s");
    try {
      await enableEverything(sql);
      await sql`insert into public.companies (company_id, title) values (${companyId}, 'Search Academy')`;
      await sql`insert into public.company_settings (company_id, experience_id) values (${companyId}, 'exp_search')`;
      const tag = companyId.slice(4);
      const sarah = {
        userId: `user_sarah_${tag}`,
        membershipId: `mem_sarah_${tag}`,
        email: `sarah.connor.${tag}@example.com`,
        name: "Sarah Connor",
        username: `sconnor${tag}`,
        productTitle: "Pro Trading Signals",
      };
      const miguel = {
        userId: `user_miguel_${tag}`,
        membershipId: `mem_miguel_${tag}`,
        email: `miguel.${tag}@example.com`,
        name: "Miguel Sarabia",
        username: `mig${tag}`,
        productTitle: "Community Access",
      };
      const zoe = {
        userId: `user_zoe_${tag}`,
        membershipId: `mem_zoe_${tag}`,
        email: `zoe.${tag}@example.com`,
        name: "Zoë Adler",
        username: `zadler${tag}`,
        productTitle: "Community Access",
      };
      await withWebhookApp(async ({ send }) => {
        for (
          const body of [
            paymentEvent("payment.failed", {
              companyId,
              ...sarah,
              amount: 49,
              failureMessage: "Your card has insufficient funds.",
            }),
            paymentEvent("payment.failed", { companyId, ...miguel, amount: 19 }),
            membershipEvent("membership.cancel_at_period_end_changed", {
              companyId,
              ...zoe,
              cancelOption: "too_expensive",
              cancellationReason: "I can't afford it this month",
            }),
          ]
        ) assert.equal((await send(await signedRequest(body))).status, 200);
      });

      const { token } = await adminToken(companyId);
      const base = `${stack.dashboardUrl}/dashboard/${companyId}`;
      await withBrowser(token, async (page) => {
        const urls: string[] = [];
        page.on("request", (request) => urls.push(request.url()));

        await page.goto(`${base}/cases`);
        const rows = page.locator("table.cases-table tbody tr");
        assert.equal(await rows.count(), 3);
        const sarahRow = rows.filter({ hasText: "Sarah Connor" });
        assert.match(await sarahRow.innerText(), new RegExp(sarah.email.replaceAll(".", "\\.")));
        assert.match(await sarahRow.innerText(), /Pro Trading Signals/);
        await screenshot(page, "cases-01-list");

        // "sar" is the start of Sarah's first name and of Miguel's surname; "sarah" only of hers.
        await page.fill('input[name="q"]', "sar");
        await Promise.all([page.waitForURL(/\/cases\?e=/), page.click("text=Apply filters")]);
        assert.deepEqual(
          (await page.locator("a.cases-row-link").allInnerTexts()).sort(),
          ["Miguel Sarabia", "Sarah Connor"],
        );
        await page.fill('input[name="q"]', "Sarah");
        await Promise.all([page.waitForURL(/\/cases\?e=/), page.click("text=Apply filters")]);
        assert.deepEqual(await page.locator("a.cases-row-link").allInnerTexts(), ["Sarah Connor"]);
        assert.equal(await page.inputValue('input[name="q"]'), "Sarah", "the search is shown again");
        await screenshot(page, "cases-02-search-sarah");
        await page.fill('input[name="q"]', "zoe");
        await Promise.all([page.waitForURL(/\/cases\?e=/), page.click("text=Apply filters")]);
        assert.deepEqual(await page.locator("a.cases-row-link").allInnerTexts(), ["Zoë Adler"], "accents");

        // A failed payment: what Whop said, at the top of the case page.
        await page.fill('input[name="q"]', "sarah");
        await Promise.all([page.waitForURL(/\/cases\?e=/), page.click("text=Apply filters")]);
        await Promise.all([page.waitForURL(/\/cases\/[0-9a-f-]{36}$/), page.click("a.cases-row-link")]);
        assert.match(
          await page.locator(".cases-why-summary").innerText(),
          /Whop said: Your card has insufficient funds\./,
        );
        assert.match(await page.locator(".cases-facts").first().innerText(), /Failed payments\s+1/);
        assert.match(await page.locator(".cases-facts").first().innerText(), /Pro Trading Signals/);
        await screenshot(page, "cases-03-payment-failed");

        // A cancellation: the reason the member picked and their own words; no failed payments.
        await page.goto(`${base}/cases?reason=cancel_scheduled`);
        await Promise.all([page.waitForURL(/\/cases\/[0-9a-f-]{36}$/), page.click("a.cases-row-link")]);
        assert.match(
          await page.locator(".cases-why-summary").innerText(),
          /The member's reason: Too expensive — I can't afford it this month/,
        );
        assert.doesNotMatch(await page.locator(".cases-facts").first().innerText(), /Failed payments/);
        assert.match(await page.locator(".cases-why").innerText(), /Member's reason\s+I can't afford it/);
        await screenshot(page, "cases-04-cancellation");

        // Nothing the browser asked for carried what was typed or who was found.
        const secrets = ["sar", "zoe", "connor", "miguel", sarah.email, encodeURIComponent(sarah.email)];
        for (const url of urls) {
          const { pathname, searchParams } = new URL(url);
          searchParams.delete("e");
          const visible = decodeURIComponent(pathname + searchParams.toString()).toLowerCase();
          for (const secret of secrets) assert.ok(!visible.includes(secret.toLowerCase()), url);
        }
      });
    } finally {
      await sql`delete from public.companies where company_id = ${companyId}`;
      await sql.end();
    }
  },
});
