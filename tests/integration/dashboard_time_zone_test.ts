// Every moment a dashboard page shows is in the company's time zone (the overview always was): the
// cases list, a case page (facts, timeline, nudges) and the activity log. And the paused banner says
// on every page why nudges are not going out, as public.nudge_pause decides it.
import assert from "node:assert/strict";
import { withCaseHarness } from "../support/case_fixtures.ts";
import { setFlags } from "../support/webhooks.ts";

Deno.test("dashboard: cases, a case page and activity show times in the company's time zone", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("tz");
    await sql`update public.company_settings set time_zone = 'America/New_York' where company_id = ${a.companyId}`;
    await a.addMember("user_tz", { name: "Tina Zone" });
    // 15:30 UTC in July is 11:30 in New York (EDT).
    const id = await a.addCase({ userId: "user_tz", openedAt: new Date("2026-07-01T15:30:00Z") });
    await sql`insert into public.audit_log (company_id, actor, action, target_type, target_id, created_at)
              values (${a.companyId}, ${a.userId}, 'case.dismiss', 'recovery_case', ${id}, '2026-07-02T03:05:00Z')`;

    const list = await (await a.request(`/dashboard/${a.companyId}/cases`)).text();
    assert.match(list, /<time datetime="2026-07-01T15:30:00\.000Z">2026-07-01 11:30 EDT<\/time>/);
    assert.doesNotMatch(list, /15:30 UTC/);
    const page = await (await a.request(`/dashboard/${a.companyId}/cases/${id}`)).text();
    assert.match(page, /opened <time datetime="2026-07-01T15:30:00\.000Z">2026-07-01 11:30 EDT/);
    assert.doesNotMatch(page, /\d\d:\d\d UTC/, "no UTC time left on the case page");
    const activity = await (await a.request(`/dashboard/${a.companyId}/activity`)).text();
    assert.match(activity, /2026-07-01 23:05 EDT/, "03:05 UTC is the evening before in New York");

    // A company that never chose keeps UTC.
    const b = await company("tz");
    await b.addCase({ openedAt: new Date("2026-07-01T15:30:00Z") });
    assert.match(await (await b.request(`/dashboard/${b.companyId}/cases`)).text(), /2026-07-01 15:30 UTC/);
  });
});

Deno.test("dashboard: the paused banner says why nudges are not going out, on every page", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("pb");
    await a.addCase();
    const pages = ["", "/cases", "/activity", "/settings"].map((path) => `/dashboard/${a.companyId}${path}`);
    const banners = async () =>
      await Promise.all(pages.map(async (path) => {
        const html = await (await a.request(path)).text();
        return /class="notice warn paused-banner"[^>]*data-pause="([a-z_]+)"/.exec(html)?.[1] ?? null;
      }));
    try {
      await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
      assert.deepEqual(await banners(), [null, null, null, null], "no banner while nudges go out");

      await sql`update public.company_settings set nudges_paused = true where company_id = ${a.companyId}`;
      assert.deepEqual(await banners(), Array(4).fill("paused_by_creator"));
      const html = await (await a.request(pages[1])).text();
      assert.match(html, /Nudges are paused\.<\/strong> Nudges that fall due while paused are not sent/);
      assert.match(html, /href="\/dashboard\/[^"]+\/settings#f-nudges_paused"/, "a way to resume");

      await sql`update public.company_settings set nudges_paused = false where company_id = ${a.companyId}`;
      await setFlags(sql, { NOTIFICATIONS_ENABLED: false });
      assert.deepEqual(await banners(), Array(4).fill("notifications_off"));
      await setFlags(sql, { NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: true });
      assert.deepEqual(await banners(), Array(4).fill("scheduler_off"));
      assert.match(
        await (await a.request(pages[0])).text(),
        /go out when sending\s+resumes; nothing is lost/,
      );
    } finally {
      await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
    }
  });
});
