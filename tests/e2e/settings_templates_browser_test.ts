// The template editor in a real browser (Debian's Chromium through playwright-core) against the
// dashboard served over HTTP: a creator inserts variables from the buttons under a field (at the
// cursor), sees the DM preview render **bold** as bold, reads a mistyped variable's error in words,
// and saves; variable names are drawn in a monospace face with room for their underscores. Without
// JavaScript the same form shows the variables to type and still saves. Screenshots (light and dark)
// are written to test-artifacts/screenshots/settings-templates-*.
import assert from "node:assert/strict";
import { screenshot, served, withBrowser } from "../support/browser.ts";
import { type OwnerSql, withCaseHarness } from "../support/case_fixtures.ts";

const browserTest = { sanitizeResources: false, sanitizeOps: false };

async function savedTemplates(sql: OwnerSql, companyId: string): Promise<unknown> {
  const [row] = await sql`select templates from public.company_settings where company_id = ${companyId}`;
  return row.templates;
}

const DM = "#f-templates-dm-0-content";
const dmChip = (variable: string) =>
  `.variable-chips[data-for="f-templates-dm-0-content"] button[data-variable="${variable}"]`;
const DM_PREVIEW = '[aria-label="Preview of nudge 1"] .preview-dm .preview-message';

Deno.test({
  name: "template editor: insert variables from the buttons, see Markdown in the DM preview, save",
  ...browserTest,
  async fn() {
    await withCaseHarness(async (h) => {
      const company = await h.company("tpl");
      await served(h.fetch, async (origin) => {
        const settingsUrl = `${origin}/dashboard/${company.companyId}/settings`;
        await withBrowser(company.token, async (page) => {
          const scriptErrors: string[] = [];
          page.on("pageerror", (error) => scriptErrors.push(error.message));
          await page.goto(settingsUrl);
          await page.waitForLoadState("load");
          assert.deepEqual(scriptErrors, [], "the page's script runs without errors");
          // The buttons are labelled in words and show the code they insert.
          const firstName = page.locator(dmChip("first_name"));
          assert.equal((await firstName.innerText()).replace(/\s+/g, " ").trim(), "First name {first_name}");
          for (const label of ["Amount", "Product", "Recovery link", "Free-days offer", "Company name"]) {
            assert.equal(
              await page.locator('.variable-chips[data-for="f-templates-dm-0-content"] button', {
                hasText: label,
              })
                .count(),
              1,
              `an insert button for ${label}`,
            );
          }
          assert.match(await page.locator(".template-help").innerText(), /No special codes needed/);
          // The default's optional parts, in words.
          const optional = page.locator('.optional-parts[data-for="f-templates-push-0-content"]');
          assert.deepEqual(await optional.locator("q").allInnerTexts(), ["of {amount}", "{incentive}"]);
          assert.match(
            await optional.innerText(),
            /shows only when the amount is known; .* shows only when there are free days/,
          );

          // Write a DM with bold text, insert the first name at the cursor and the link at the end.
          await page.fill(DM, "Hi , your payment needs **one quick step**. Update it here: ");
          await page.locator(DM).evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(3, 3));
          await firstName.click();
          assert.equal(
            await page.inputValue(DM),
            "Hi {first_name}, your payment needs **one quick step**. Update it here: ",
            "inserted where the cursor was",
          );
          await page.locator(DM).press("Control+End");
          await page.click(dmChip("recovery_link"));
          const typed =
            "Hi {first_name}, your payment needs **one quick step**. Update it here: {recovery_link}";
          assert.equal(await page.inputValue(DM), typed);
          assert.equal(
            await page.evaluate(() => document.activeElement?.id),
            "f-templates-dm-0-content",
            "the cursor is back in the field",
          );

          // The preview follows, with the Markdown rendered: bold text, no asterisks.
          const preview = page.locator(DM_PREVIEW);
          await page.waitForFunction(
            (selector) => document.querySelector(selector)?.textContent?.includes("Hi Alex,"),
            DM_PREVIEW,
          );
          assert.equal(await preview.locator("strong").first().innerText(), "one quick step");
          // The free-days offer the renderer adds (3 days by default) is bold too.
          assert.equal(await preview.locator("strong").nth(1).innerText(), "3 free days");
          const shown = await preview.innerText();
          assert.match(shown, /^Hi Alex, your payment needs one quick step\. Update it here: http/);
          assert.doesNotMatch(shown, /\*\*|\{first_name\}/);

          // Variable names: monospace, with a line tall enough for the underscore.
          const code = await firstName.locator("code").evaluate((el) => {
            const style = getComputedStyle(el);
            return {
              family: style.fontFamily,
              lineHeight: parseFloat(style.lineHeight),
              size: parseFloat(style.fontSize),
            };
          });
          assert.match(code.family, /monospace/);
          assert.ok(
            code.lineHeight >= 1.5 * code.size,
            `line height ${code.lineHeight} for ${code.size}px text`,
          );

          // A mistyped variable is named in words, in the preview and on saving.
          await page.fill("#f-templates-push-0-title", "Hi {firstname}");
          const pushError = page.locator('[aria-label="Preview of nudge 1"] .preview-push .preview-error');
          assert.match(
            await pushError.innerText(),
            /\{firstname\}: did you mean \{first_name\} \(first name\)\?/,
          );
          await screenshot(page, "settings-templates-editor");
          // Set-up asks for the free days as a deliberate choice before anything saves.
          await page.check('input[name="incentive_choice"][value="free_days"]');
          await Promise.all([page.waitForNavigation(), page.click("text=Save settings")]);
          assert.match(
            await page.locator("#f-templates-push-0-title-error").innerText(),
            /did you mean \{first_name\}/,
          );
          assert.deepEqual(await savedTemplates(h.sql, company.companyId), {}, "nothing saved with an error");

          // Fixed, it saves; the page shows the saved text and its rendered preview.
          await page.fill("#f-templates-push-0-title", "Hi {first_name}");
          await Promise.all([page.waitForNavigation(), page.click("text=Save settings")]);
          // The first save completes the set-up, so it says so instead of "Settings saved".
          assert.match(
            await page.locator('.notice[role="status"]', { hasText: /Settings saved|Set-up done/ })
              .innerText(),
            /Settings saved|Set-up done/,
          );
          assert.deepEqual(await savedTemplates(h.sql, company.companyId), {
            push: { "0": { title: "Hi {first_name}" } },
            dm: { "0": { content: typed } },
          });
          assert.equal(await page.inputValue(DM), typed);
          assert.equal(
            await page.locator(DM_PREVIEW).locator("strong").first().innerText(),
            "one quick step",
          );
          await screenshot(page, "settings-templates-saved");

          // Into a field the creator never clicked, a variable goes at the end.
          const secondPush = "#f-templates-push-1-content";
          const before = await page.inputValue(secondPush);
          await page.click(
            '.variable-chips[data-for="f-templates-push-1-content"] button[data-variable="company"]',
          );
          assert.equal(await page.inputValue(secondPush), `${before}{company}`);
        });

        // Without JavaScript: the variables are listed to type, and the plain form saves.
        await withBrowser(company.token, async (_page, context) => {
          const page = await context.browser()!.newContext({
            javaScriptEnabled: false,
            extraHTTPHeaders: { "x-whop-user-token": company.token },
          }).then((noJs) => noJs.newPage());
          await page.goto(settingsUrl);
          const row = page.locator('.variable-chips[data-for="f-templates-dm-0-content"]');
          assert.equal(await row.locator("button").count(), 0, "no buttons that would do nothing");
          assert.match(
            (await row.innerText()).replace(/\s+/g, " "),
            /You can type: First name \{first_name\}/,
          );
          assert.equal(
            await page.locator(DM_PREVIEW).locator("strong").first().innerText(),
            "one quick step",
          );
          await page.fill(DM, "Plain **form**, {first_name}: {recovery_link}");
          await Promise.all([page.waitForNavigation(), page.click("text=Save settings")]);
          assert.deepEqual(await savedTemplates(h.sql, company.companyId), {
            push: { "0": { title: "Hi {first_name}" } },
            dm: { "0": { content: "Plain **form**, {first_name}: {recovery_link}" } },
          });
          assert.equal(
            await page.locator(DM_PREVIEW).locator("strong").first().innerText(),
            "form",
            "server-rendered preview",
          );
          await screenshot(page, "settings-templates-no-js");
        });
      });
    });
  },
});
