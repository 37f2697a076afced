// How the dashboard looks inside Whop's iframe, in a real browser (Debian's Chromium through
// playwright-core) against the dashboard served over HTTP: dark when the system or Whop's theme says
// so and light otherwise; at 400 px no page scrolls sideways and every section tab is whole; with the
// database down a browser gets a page that says what to do (JSON stays JSON); 404 pages lead back.
// Screenshots (light and dark) are written to test-artifacts/screenshots/look-*.
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { createApp } from "../../web/app.ts";
import { screenshot, served, withBrowser } from "../support/browser.ts";
import { type OwnerSql, type TestCompany, withCaseHarness } from "../support/case_fixtures.ts";
import { adminToken } from "../support/dashboard.ts";
import { dashboardEnv, unreachableDatabaseUrl } from "../support/stack.ts";

const DAY = 86_400_000;
const browserTest = { sanitizeResources: false, sanitizeOps: false };

/** A company whose pages have something in every part: long names, big amounts, nudges, activity. */
async function richCompany(sql: OwnerSql, company: TestCompany) {
  const { companyId } = company;
  await company.addMember("user_look_long", {
    email: "maximiliana.vandenberghe-oyelaran@example-academy.com",
    name: "Maximiliana Vandenberghe-Oyelaran",
    username: "maximiliana_vdb",
  });
  const openedAt = new Date(Date.now() - 3 * DAY);
  const caseId = await company.addCase({
    userId: "user_look_long",
    membershipId: `mem_look_${companyId.slice(4)}`,
    openedAt,
    amountMinor: 1_234_567,
  });
  await company.addCase({ status: "recovered", amountMinor: 99_900, recoveredMinor: 99_900 });
  await company.addCase({ status: "lost", reason: "membership_deactivated", currency: "eur" });
  await company.addCase({ status: "dismissed", reason: "cancel_scheduled", amountMinor: null });
  const [sent, failed] = await sql<{ id: string }[]>`
    insert into public.job_queue (case_id, company_id, channel, step, status, scheduled_for, sent_at, attempts, last_error)
    values (${caseId}, ${companyId}, 'push', 0, 'sent', ${openedAt}, ${openedAt}, 1, null),
           (${caseId}, ${companyId}, 'dm', 1, 'failed', ${new Date(openedAt.getTime() + DAY)}, null, 2,
            'The member has turned off direct messages from apps they have not talked to before')
    returning id::text`;
  await sql`
    insert into public.notification_attempts (job_id, company_id, status, http_status, latency_ms, error, created_at)
    values (${sent.id}, ${companyId}, 'sent', 200, 120, null, ${openedAt}),
           (${failed.id}, ${companyId}, 'failed', 403, 80, 'The member has turned off direct messages',
            ${new Date(openedAt.getTime() + DAY)})`;
  await sql`
    insert into public.audit_log (company_id, actor, action, target_type, target_id, before, after, created_at)
    values (${companyId}, ${company.userId}, 'case.dismiss', 'recovery_case', ${caseId},
            '{"status": "open"}', '{"status": "dismissed"}', now() - interval '1 hour'),
           (${companyId}, ${company.userId}, 'settings.update', 'company_settings', ${companyId},
            '{"send_hour": 10}', '{"send_hour": 9}', now())`;
  return caseId;
}

/** Relative luminance (0 black … 1 white) of a computed CSS colour, "rgb(r, g, b)". */
function luminance(css: string): number {
  const [r, g, b] = (css.match(/[\d.]+/g) ?? []).map(Number).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The page's own background (what the iframe shows), a panel's, and the body text colour. */
function colours(page: Page, panel: string) {
  return page.evaluate((selector) => {
    const style = (el: Element | null) => el ? getComputedStyle(el) : null;
    return {
      page: style(document.documentElement)!.backgroundColor,
      panel: style(document.querySelector(selector))?.backgroundColor ?? "none",
      text: style(document.body)!.color,
    };
  }, panel);
}

async function assertScheme(page: Page, expected: "light" | "dark", panel: string, what: string) {
  const seen = await colours(page, panel);
  const [bg, card, text] = [luminance(seen.page), luminance(seen.panel), luminance(seen.text)];
  if (expected === "dark") {
    assert.ok(bg < 0.05 && card < 0.05, `${what}: dark backgrounds (${JSON.stringify(seen)})`);
    assert.ok(text > 0.6, `${what}: light text (${seen.text})`);
  } else {
    assert.ok(bg > 0.85 && card > 0.85, `${what}: light backgrounds (${JSON.stringify(seen)})`);
    assert.ok(text < 0.05, `${what}: dark text (${seen.text})`);
  }
}

function whopTheme(context: BrowserContext, origin: string, appearance: "light" | "dark") {
  return context.addCookies([{ name: "whop-frosted-theme", value: `appearance:${appearance}`, url: origin }]);
}

Deno.test({
  name: "dark mode: follows prefers-color-scheme, and Whop's theme cookie wins over it",
  ...browserTest,
  async fn() {
    await withCaseHarness(async (h) => {
      const company = await h.company("look");
      const caseId = await richCompany(h.sql, company);
      await served(h.fetch, async (origin) => {
        const base = `${origin}/dashboard/${company.companyId}`;
        const pages: Array<[string, string, string]> = [
          ["overview", base, ".kpi"],
          ["cases", `${base}/cases`, "table.data"],
          ["case", `${base}/cases/${caseId}`, ".card"],
          ["activity", `${base}/activity`, ".card"],
          ["settings", `${base}/settings`, ".card"],
        ];
        await withBrowser(company.token, async (page, context) => {
          for (const [name, url, panel] of pages) {
            for (const scheme of ["light", "dark"] as const) {
              await page.emulateMedia({ colorScheme: scheme });
              await page.goto(url);
              await assertScheme(page, scheme, panel, `${name}, system ${scheme}`);
            }
            await screenshot(page, `look-theme-${name}`);
          }

          // Whop's theme, whatever the system prefers.
          await whopTheme(context, origin, "dark");
          await page.emulateMedia({ colorScheme: "light" });
          await page.goto(base);
          await assertScheme(page, "dark", ".kpi", "Whop dark, system light");
          await page.screenshot({
            path: "test-artifacts/screenshots/look-theme-whop-dark.png",
            fullPage: true,
          });
          await whopTheme(context, origin, "light");
          await page.emulateMedia({ colorScheme: "dark" });
          await page.goto(`${base}/cases`);
          await assertScheme(page, "light", "table.data", "Whop light, system dark");
          await page.screenshot({
            path: "test-artifacts/screenshots/look-theme-whop-light.png",
            fullPage: true,
          });
        });
      });
    });
  },
});

/** Elements that stick out of the viewport on the right: named for the failure message. */
function overflowing(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > innerWidth + 0.5)
      .slice(0, 8)
      .map((el) =>
        `${el.tagName.toLowerCase()}.${[...el.classList].join(".")} → ${el.getBoundingClientRect().right}`
      )
  );
}

Deno.test({
  name: "400 px: no page scrolls sideways, every section tab is whole, amounts stay in view",
  ...browserTest,
  async fn() {
    await withCaseHarness(async (h) => {
      const company = await h.company("narrow");
      const caseId = await richCompany(h.sql, company);
      await served(h.fetch, async (origin) => {
        const base = `${origin}/dashboard/${company.companyId}`;
        const pages: Array<[string, string]> = [
          ["overview", base],
          ["cases", `${base}/cases`],
          ["case", `${base}/cases/${caseId}`],
          ["nudge-confirm", `${base}/cases/${caseId}/actions/nudge`],
          ["activity", `${base}/activity`],
          ["settings", `${base}/settings`],
        ];
        await withBrowser(company.token, async (page) => {
          await page.setViewportSize({ width: 400, height: 800 });
          for (const [name, url] of pages) {
            const response = await page.goto(url);
            assert.equal(response?.status(), 200, `${name} answers`);
            const { scrollWidth, viewport } = await page.evaluate(() => ({
              scrollWidth: document.scrollingElement!.scrollWidth,
              viewport: globalThis.innerWidth,
            }));
            assert.ok(
              scrollWidth <= viewport,
              `${name}: no sideways scroll (${scrollWidth} > ${viewport}: ${await overflowing(page)})`,
            );
            const nav = (await page.locator("nav.tabs").boundingBox())!;
            const tabs = page.locator("nav.tabs a.tab");
            assert.equal(await tabs.count(), 4);
            for (const tab of await tabs.all()) {
              const box = (await tab.boundingBox())!;
              const label = await tab.innerText();
              assert.ok(
                box.x >= 0 && box.x + box.width <= viewport && box.x + box.width <= nav.x + nav.width + 0.5,
                `${name}: the ${label} tab is whole (${JSON.stringify(box)})`,
              );
              assert.ok(
                box.y >= nav.y && box.y + box.height <= nav.y + nav.height + 0.5,
                `${name}: ${label} in the nav`,
              );
            }
            if (name === "cases") {
              // The amount at risk of every row is on screen, not behind a scroll.
              for (const cell of await page.locator("table.cases-table td.cases-amounts").all()) {
                const box = (await cell.boundingBox())!;
                assert.ok(
                  box.x >= 0 && box.x + box.width <= viewport,
                  `amount in view (${JSON.stringify(box)})`,
                );
              }
              assert.match(await page.locator("main").innerText(), /\$12,345\.67/);
            }
            if (name === "case") {
              // The nudges table stacks too: when each was sent and its attempts are on screen.
              for (const cell of await page.locator("table.cases-nudges td").all()) {
                const box = (await cell.boundingBox())!;
                assert.ok(
                  box.x >= 0 && box.x + box.width <= viewport,
                  `nudge cell in view (${JSON.stringify(box)})`,
                );
              }
            }
            await screenshot(page, `look-400-${name}`);
          }
        });
      });
    });
  },
});

Deno.test({
  name: "5xx inside the iframe: with the database down a browser gets a page saying what to do",
  ...browserTest,
  async fn() {
    const { app, close } = await createApp(dashboardEnv({ DATABASE_URL: unreachableDatabaseUrl() }));
    try {
      const companyId = `biz_lookdown${crypto.randomUUID().slice(0, 8)}`;
      const { token } = await adminToken(companyId);
      await served(app.fetch, async (origin) => {
        const url = `${origin}/dashboard/${companyId}/cases`;
        // JSON callers keep JSON.
        const json = await fetch(url, {
          headers: { "x-whop-user-token": token, accept: "application/json" },
        });
        assert.equal(json.status, 500);
        assert.equal((await json.json()).error.code, "internal_error");

        await withBrowser(token, async (page) => {
          const response = (await page.goto(url))!;
          assert.ok(response.status() >= 500 && response.status() < 600, `5xx, not ${response.status()}`);
          assert.match(response.headers()["content-type"], /^text\/html/);
          assert.equal(response.headers()["cache-control"], "no-store");
          const text = await page.locator("main").innerText();
          assert.match(text, /could not load this page/i, "says what happened");
          assert.match(text, /not something you did/i, "says it is not the creator's fault");
          assert.match(text, /try again/i, "says what to do");
          const html = await page.content();
          for (const leak of [/"error"\s*:/, /\bat \w+ \(/, /ECONNREFUSED/i, /127\.0\.0\.1/, /postgres/i]) {
            assert.doesNotMatch(html, leak, `no internals (${leak})`);
          }
          const retry = page.getByRole("link", { name: "Try again" });
          assert.equal(
            new URL((await retry.getAttribute("href"))!, url).href,
            url,
            "Try again reloads the page",
          );
          await screenshot(page, "look-5xx");
        });
      });
    } finally {
      await close();
    }
  },
});

Deno.test({
  name: "404 pages lead back: to the company's overview when it is known, JSON for JSON callers",
  ...browserTest,
  async fn() {
    await withCaseHarness(async (h) => {
      const company = await h.company("lost");
      await served(h.fetch, async (origin) => {
        const base = `${origin}/dashboard/${company.companyId}`;
        const json = await fetch(`${origin}/no/such/route`, { headers: { accept: "application/json" } });
        assert.equal(json.status, 404);
        assert.equal((await json.json()).error.code, "not_found");

        await withBrowser(company.token, async (page) => {
          for (
            const [name, url] of [
              ["case", `${base}/cases/00000000-0000-4000-8000-000000000000`],
              ["route", `${base}/no-such-page`],
            ]
          ) {
            const response = (await page.goto(url))!;
            assert.equal(response.status(), 404, name);
            assert.match(response.headers()["content-type"], /^text\/html/, name);
            const back = page.getByRole("link", { name: "Go to the overview" });
            assert.equal(await back.getAttribute("href"), `/dashboard/${company.companyId}`, name);
            await screenshot(page, `look-404-${name}`);
          }
          await Promise.all([
            page.waitForURL(base),
            page.getByRole("link", { name: "Go to the overview" }).click(),
          ]);
          assert.equal(await page.locator("nav.tabs .tab.active").innerText(), "Overview");

          // Not a dashboard address: the way back is Whop.
          const response = (await page.goto(`${origin}/no/such/route`))!;
          assert.equal(response.status(), 404);
          const whop = page.getByRole("link", { name: /Whop/ });
          assert.match((await whop.getAttribute("href"))!, /^https:\/\/whop\.com\//);
          await screenshot(page, "look-404-unknown");
        });
      });
    });
  },
});
