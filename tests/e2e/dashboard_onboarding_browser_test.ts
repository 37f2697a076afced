// A brand-new creator's first visit in a real browser (Debian's Chromium through playwright-core),
// against the running stack, signed in the way Whop's proxy does it: a company Churn Saver has never
// heard of (no row, no event) is installed by the visit, shows its set-up checklist, and is set up
// from the settings page: the experience chosen by name from Whop's list, the time zone preselected
// from the browser's (the context runs in America/New_York), the free days chosen deliberately. Then
// the checklist is gone and the database holds the choices. Screenshots in test-artifacts/screenshots/.
import assert from "node:assert/strict";
import { screenshot, withBrowser } from "../support/browser.ts";
import { adminToken } from "../support/dashboard.ts";
import { connectAsOwner, sandboxControl, stack, stackVar } from "../support/stack.ts";
import { uniqueCompany } from "../support/webhooks.ts";

const BROWSER_TIME_ZONE = "America/New_York";
const APP_ID = stackVar("WHOP_APP_ID");

Deno.test({
  name: "onboarding in a browser: a new company's first visit, its checklist, set-up saved, checklist done",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const sql = connectAsOwner();
    const companyId = uniqueCompany("onboard");
    const tag = companyId.slice(4);
    const chat = `exp_chat_${tag}`;
    try {
      await sandboxControl("POST", "/fixtures", {
        experiences: [
          { id: chat, company_id: companyId, app_id: APP_ID, name: "Members chat", order: "1" },
          {
            id: `exp_course_${tag}`,
            company_id: companyId,
            app_id: APP_ID,
            name: "Trading course",
            order: "2",
          },
          // Another app's experience: Whop would not deliver our pushes through it, so it is not offered.
          { id: `exp_forum_${tag}`, company_id: companyId, app_id: "app_someotherapp1", name: "Forum" },
        ],
      });
      const { token } = await adminToken(companyId);
      const known = async () =>
        (await sql`select count(*)::int as n from public.companies where company_id = ${companyId}`)[0].n;
      assert.equal(await known(), 0, "Churn Saver has never heard of the company");
      const base = `${stack.dashboardUrl}/dashboard/${companyId}`;

      await withBrowser(token, async (_page, first) => {
        // Whop's proxy adds the token; this context also lives in the creator's own time zone.
        const context = await first.browser()!.newContext({
          extraHTTPHeaders: { "x-whop-user-token": token },
          viewport: { width: 1280, height: 900 },
          timezoneId: BROWSER_TIME_ZONE,
        });
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);

        // First visit: the company exists from now on, with its checklist on the overview.
        const visit = await page.goto(base);
        assert.equal(visit?.status(), 200);
        assert.equal(await known(), 1, "the visit installed the company");
        const checklist = page.getByTestId("setup-checklist");
        assert.ok(await checklist.isVisible());
        assert.equal(await checklist.getAttribute("data-setup-left"), "3");
        assert.match(await checklist.innerText(), /0 of 3 done/);
        await screenshot(page, "onboarding-01-overview-checklist");
        // At 400 px (Whop's mobile panel) the checklist fits the screen.
        await page.setViewportSize({ width: 400, height: 900 });
        const box = await checklist.boundingBox();
        assert.ok(
          box && box.x >= 0 && box.x + box.width <= 400,
          `checklist within 400 px: ${JSON.stringify(box)}`,
        );
        await screenshot(page, "onboarding-01-overview-checklist-400");
        await page.setViewportSize({ width: 1280, height: 900 });

        await Promise.all([page.waitForNavigation(), checklist.getByText("Open settings").click()]);
        assert.ok(await page.getByTestId("setup-checklist").isVisible(), "the checklist heads settings too");
        // The browser's zone is preselected (the database still says UTC, nobody chose it yet).
        assert.equal(await page.inputValue("#f-time_zone"), BROWSER_TIME_ZONE);
        assert.match(await page.locator("#f-time_zone-hint").innerText(), /Set from your browser/);
        // No free days are chosen for the creator.
        assert.equal(await page.locator('input[name="incentive_choice"]:checked').count(), 0);
        // The experience by its name, from the company's experiences on Whop.
        const options = await page.locator("#f-experience_id option").allInnerTexts();
        assert.deepEqual(options, [
          "Choose an experience",
          "Members chat",
          "Trading course",
        ]);
        await screenshot(page, "onboarding-02-settings-before");

        await page.selectOption("#f-experience_id", { label: "Members chat" });
        // The first nudge's preview follows the choice: nothing offered, then 5 free days.
        const firstPreview = page.locator('[data-island="template_preview"]').first();
        await page.check('input[name="incentive_choice"][value="none"]');
        await page.waitForFunction(() =>
          !document.querySelector('[data-island="template_preview"]')?.textContent?.includes(
            "free days announced",
          )
        );
        await page.check('input[name="incentive_choice"][value="free_days"]');
        await page.fill("#f-incentive_free_days", "5");
        await page.waitForFunction(() =>
          document.querySelector('[data-island="template_preview"]')?.textContent?.includes(
            "5 free days announced",
          )
        );
        assert.match(await firstPreview.innerText(), /with 5 free days announced by this nudge/);
        await Promise.all([page.waitForNavigation(), page.click("text=Save settings")]);
        assert.match(
          await page.locator('.notice[role="status"]:not(.paused-banner)').innerText(),
          /Set-up done/,
        );
        assert.equal(await page.getByTestId("setup-checklist").count(), 0, "no checklist once set up");
        assert.equal(await page.inputValue("#f-time_zone"), BROWSER_TIME_ZONE);
        assert.equal(await page.inputValue("#f-experience_id"), chat);
        await screenshot(page, "onboarding-03-settings-saved");

        const [stored] = await sql`
          select experience_id, time_zone, incentive_free_days,
                 time_zone_chosen_at is not null as time_zone_chosen,
                 incentive_chosen_at is not null as incentive_chosen
          from public.company_settings where company_id = ${companyId}`;
        assert.deepEqual({ ...stored }, {
          experience_id: chat,
          time_zone: BROWSER_TIME_ZONE,
          incentive_free_days: 5,
          time_zone_chosen: true,
          incentive_chosen: true,
        });
        const [{ n: events }] =
          await sql`select count(*)::int as n from public.events where company_id = ${companyId}`;
        assert.equal(events, 0, "all of it before any event arrived");

        await page.goto(base);
        assert.equal(
          await page.getByTestId("setup-checklist").count(),
          0,
          "the overview has no checklist either",
        );
        await screenshot(page, "onboarding-04-overview-done");
        await context.close();
      });
    } finally {
      await sql`delete from public.companies where company_id = ${companyId}`;
      await sql.end();
    }
  },
});
