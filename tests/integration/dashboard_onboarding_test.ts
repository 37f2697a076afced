// A brand-new company's first hour (issue 13, onboarding), against the stack's database and Whop
// sandbox with the dashboard app in-process: the first visit of its admin installs it, the set-up
// checklist shows until the experience, the time zone and the incentive are chosen, settings save
// before any event has arrived, a pasted experience link is reduced to its id, nudge days are sorted,
// and /dev/login opens a company nobody has heard of.
import assert from "node:assert/strict";
import { createApp } from "../../web/app.ts";
import { type SettingsFormValues, settingsToForm } from "../../web/components/settings/form_model.ts";
import { DEFAULT_SETTINGS } from "../../web/queries/settings.ts";
import { devExperiences } from "../../web/routes/dev_login.tsx";
import { grantAccess, settingsFormBody, userToken } from "../support/dashboard.ts";
import { connectAsOwner, dashboardEnv, sandboxControl, stackVar } from "../support/stack.ts";

const ORIGIN = "http://dashboard.test";
const SAME_ORIGIN = { "sec-fetch-site": "same-origin", origin: ORIGIN };
const hex = () => crypto.randomUUID().replaceAll("-", "").slice(0, 12);
/** Our app: the settings page lists only its experiences (pushes go out through them alone). */
const APP_ID = stackVar("WHOP_APP_ID");

interface Ctx {
  sql: ReturnType<typeof connectAsOwner>;
  companyId: string;
  get: (path: string) => Promise<{ status: number; html: string }>;
  post: (query: string, values: Partial<SettingsFormValues>) => Promise<Response>;
  stored: () => Promise<Record<string, unknown> | undefined>;
}

/** A company Churn Saver has never heard of (no row, no event), its admin, and the dashboard app. */
async function withNewCompany(fn: (ctx: Ctx) => Promise<void>) {
  const sql = connectAsOwner();
  const { app, close } = await createApp(dashboardEnv());
  const companyId = `biz_onboard${hex()}`;
  const userId = `user_onboard${hex()}`;
  await grantAccess(userId, companyId);
  const headers = { "x-whop-user-token": await userToken(userId), accept: "text/html" };
  try {
    await fn({
      sql,
      companyId,
      get: async (path) => {
        const response = await app.fetch(new Request(`${ORIGIN}/dashboard/${companyId}${path}`, { headers }));
        return { status: response.status, html: await response.text() };
      },
      post: async (query, values) =>
        await app.fetch(
          new Request(`${ORIGIN}/dashboard/${companyId}/settings${query}`, {
            method: "POST",
            headers: { ...headers, ...SAME_ORIGIN, "content-type": "application/x-www-form-urlencoded" },
            body: settingsFormBody({ ...settingsToForm(DEFAULT_SETTINGS), ...values }),
          }),
        ),
      stored: async () => {
        const [row] = await sql`
          select experience_id, time_zone, incentive_free_days, nudge_offsets_days,
                 time_zone_chosen_at is not null as time_zone_chosen,
                 incentive_chosen_at is not null as incentive_chosen
          from public.company_settings where company_id = ${companyId}`;
        return row ? { ...row } : undefined;
      },
    });
  } finally {
    await sql`delete from public.companies where company_id = ${companyId}`;
    await close();
    await sql.end();
  }
}

function checklistLeft(html: string): number | null {
  const match = html.match(/data-testid="setup-checklist" data-setup-left="(\d)"/);
  return match ? Number(match[1]) : null;
}

Deno.test("a company with no event is set up on its first visit: checklist, choices saved, checklist gone", async () => {
  await withNewCompany(async ({ sql, companyId, get, post, stored }) => {
    await sandboxControl("POST", "/fixtures", {
      experiences: [
        {
          id: `exp_chat${companyId.slice(11)}`,
          company_id: companyId,
          app_id: APP_ID,
          name: "Members chat",
          order: "1",
        },
        {
          id: `exp_course${companyId.slice(11)}`,
          company_id: companyId,
          app_id: APP_ID,
          name: "Trading course",
        },
        {
          id: `exp_forum${hex()}`,
          company_id: companyId,
          app_id: "app_someotherapp1",
          name: "Another app's forum",
        },
        {
          id: `exp_notmine${hex()}`,
          company_id: `biz_someoneelse${hex()}`,
          app_id: APP_ID,
          name: "Someone else's",
        },
      ],
    });
    const chat = `exp_chat${companyId.slice(11)}`;

    const overview = await get("");
    assert.equal(overview.status, 200, "the first visit installs the company");
    assert.equal(checklistLeft(overview.html), 3, "three things to do");
    assert.match(overview.html, /Finish setting up Churn Saver/);
    assert.match(overview.html, new RegExp(`href="/dashboard/${companyId}/settings#f-experience_id"`));
    assert.equal(
      (await sql`select count(*)::int as n from public.events where company_id = ${companyId}`)[0].n,
      0,
      "no event has arrived",
    );

    const settings = await get("/settings");
    assert.equal(settings.status, 200);
    assert.equal(checklistLeft(settings.html), 3);
    assert.doesNotMatch(settings.html, /first event|first webhook/);
    // The experience by name from Whop's list (this company's only), the time zone from the browser.
    assert.match(settings.html, new RegExp(`<option value="${chat}">Members chat</option>`));
    assert.match(settings.html, /Trading course/);
    assert.doesNotMatch(settings.html, /Someone else's/, "another company's");
    assert.doesNotMatch(
      settings.html,
      /Another app's forum/,
      "another app's: our pushes cannot go through it",
    );
    assert.match(settings.html, /<select[^>]*id="f-time_zone"[^>]*data-browser-default/);
    assert.match(settings.html, /resolvedOptions\(\)\.timeZone/);
    assert.doesNotMatch(settings.html, /name="incentive_choice"[^>]*checked/, "no incentive chosen for them");

    // Saving without choosing the incentive is refused and records nothing.
    const unchosen = await post("?setup=1", { incentive_choice: "", experience_id: chat });
    assert.equal(unchosen.status, 422);
    assert.match(await unchosen.text(), /Choose whether members get free days/);
    assert.deepEqual(await stored(), {
      experience_id: null,
      time_zone: "UTC",
      incentive_free_days: 3,
      nudge_offsets_days: [0, 2, 4],
      time_zone_chosen: false,
      incentive_chosen: false,
    });

    const saved = await post("?setup=1", {
      experience_id: chat,
      time_zone: "Europe/Berlin",
      incentive_choice: "none",
      incentive_free_days: "3",
    });
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.get("location"), `/dashboard/${companyId}/settings?notice=setup`);
    assert.deepEqual(await stored(), {
      experience_id: chat,
      time_zone: "Europe/Berlin",
      incentive_free_days: 0,
      nudge_offsets_days: [0, 2, 4],
      time_zone_chosen: true,
      incentive_chosen: true,
    });
    const [audit] = await sql`select action, after from public.audit_log where company_id = ${companyId}`;
    assert.equal(audit.action, "settings.update");
    assert.deepEqual(audit.after, {
      experience_id: chat,
      time_zone: "Europe/Berlin",
      incentive_free_days: 0,
    });

    const after = await get("/settings?notice=setup");
    assert.equal(checklistLeft(after.html), null, "no checklist once set up");
    assert.match(after.html, /Set-up done/);
    assert.match(after.html, /name="incentive_choice" value="none"[^>]*checked/);
    assert.doesNotMatch(after.html, /data-browser-default/, "the chosen zone is no longer replaced");
    assert.equal(checklistLeft((await get("")).html), null);
  });
});

Deno.test("the checklist counts what is done: push off needs no experience; a partial save keeps it shown", async () => {
  await withNewCompany(async ({ get, post }) => {
    await get("");
    const saved = await post("?setup=1", { incentive_choice: "free_days", incentive_free_days: "5" });
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.get("location")?.endsWith("notice=saved"), true, "not yet done");
    const { html } = await get("");
    assert.equal(checklistLeft(html), 1, "only the experience is left");
    assert.match(html, /data-setup-item="experience" data-done="false"/);
    assert.match(html, /data-setup-item="incentive" data-done="true"/);
    await post("?setup=1", { incentive_choice: "free_days", incentive_free_days: "5", push_enabled: false });
    assert.equal(checklistLeft((await get("")).html), null, "push off: nothing left to do");
  });
});

Deno.test("a pasted experience link is saved as its id; a link without one is refused with a clear error", async () => {
  await withNewCompany(async ({ get, post, stored }) => {
    const page = await get("/settings");
    // Whop lists no experience of ours for this company: the page says so and asks for the link.
    assert.match(page.html, /Churn Saver has no experience in your company on Whop yet/);
    assert.match(page.html, /<input[^>]*id="f-experience_id"/);
    const cases: [string, string | RegExp][] = [
      ["https://whop.com/joined/acme-academy/exp_Pasted01/app/", "exp_Pasted01"],
      ["  whop.com/hub/exp_Pasted02?tab=chat ", "exp_Pasted02"],
      ["exp_Pasted03", "exp_Pasted03"],
      [
        "https://whop.com/joined/acme-academy/",
        /No experience id \(exp_…\) in "https:\/\/whop.com\/joined\/acme-academy\/"/,
      ],
      ["https://whop.com/joined/a/exp_one/app/?back=/exp_two", /more than one experience/],
    ];
    for (const [typed, expected] of cases) {
      const response = await post("", { experience_id: typed });
      const html = await response.text();
      if (typeof expected === "string") {
        assert.equal(response.status, 303, `${typed}: ${html.slice(0, 300)}`);
        assert.equal((await stored())?.experience_id, expected, typed);
      } else {
        assert.equal(response.status, 422, typed);
        const error = html.match(/<p id="f-experience_id-error" class="field-error">([^<]*)<\/p>/)?.[1] ?? "";
        assert.match(error.replaceAll("&quot;", '"'), expected, typed);
        assert.equal((await stored())?.experience_id, "exp_Pasted03", "nothing saved");
      }
    }
  });
});

Deno.test("with Whop's list shown, a pasted link wins; when Whop fails the page still saves a pasted link", async () => {
  await withNewCompany(async ({ companyId, get, post, stored }) => {
    const listed = `exp_listed${hex()}`;
    await sandboxControl("POST", "/fixtures", {
      experiences: [{ id: listed, company_id: companyId, app_id: APP_ID, name: "Listed one" }],
    });
    assert.match((await get("/settings")).html, /<select[^>]*id="f-experience_id"/);
    const both = await post("", {
      experience_id: listed,
      experience_link: "https://whop.com/joined/x/exp_Linked1/app/",
    });
    assert.equal(both.status, 303);
    assert.equal((await stored())?.experience_id, "exp_Linked1");
    // A saved experience that is not in the list stays selected, named as such.
    assert.match(
      (await get("/settings")).html,
      /<option value="exp_Linked1" selected(="")?>exp_Linked1 \(not in Whop's list\)/,
    );

    await sandboxControl("POST", "/faults", {
      method: "GET",
      path: "/api/v1/experiences",
      status: 503,
      times: 2,
    });
    const page = await get("/settings");
    assert.equal(page.status, 200);
    assert.match(page.html, /could not be loaded just now/);
    const saved = await post("", { experience_id: "https://whop.com/joined/x/exp_Linked2/app/" });
    assert.equal(saved.status, 303);
    assert.equal((await stored())?.experience_id, "exp_Linked2");
  });
});

Deno.test("nudge days typed out of order are saved in order; a day given twice is refused", async () => {
  await withNewCompany(async ({ get, post, stored }) => {
    await get("");
    const sorted = await post("", { nudge_offsets_days: "5, 0, 2" });
    assert.equal(sorted.status, 303);
    assert.deepEqual((await stored())?.nudge_offsets_days, [0, 2, 5]);
    assert.match((await get("/settings")).html, /<input[^>]*value="0, 2, 5"[^>]*id="f-nudge_offsets_days"/);
    const twice = await post("", { nudge_offsets_days: "2, 0, 2" });
    assert.equal(twice.status, 422);
    assert.match(await twice.text(), /Day 2 is listed twice\. List each day once, like 0, 2, 4\./);
    assert.deepEqual((await stored())?.nudge_offsets_days, [0, 2, 5]);
  });
});

Deno.test("/dev/login opens a brand-new company: it is installed on the visit and has sandbox experiences", async () => {
  const sql = connectAsOwner();
  const { app, close } = await createApp(dashboardEnv());
  const companyId = `biz_devnew${hex()}`;
  try {
    const form = await app.fetch(new Request(`${ORIGIN}/dev/login`));
    const html = await form.text();
    assert.match(html, /Open new company/);
    assert.match(html, /name="company_id" value="biz_new[0-9a-f]{10}"/);
    const login = await app.fetch(
      new Request(`${ORIGIN}/dev/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ company_id: ` ${companyId} `, new_company: "1" }),
      }),
    );
    assert.equal(login.status, 303);
    assert.equal(login.headers.get("location"), `/dashboard/${companyId}`);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
    assert.ok(cookie.includes("="));
    const page = await app.fetch(
      new Request(`${ORIGIN}/dashboard/${companyId}/settings`, { headers: { cookie, accept: "text/html" } }),
    );
    assert.equal(page.status, 200);
    const settings = await page.text();
    assert.match(settings, /Finish setting up Churn Saver/);
    for (const experience of devExperiences(companyId, APP_ID)) {
      assert.ok(settings.includes(`value="${experience.id}"`));
    }
    const [row] =
      await sql`select count(*)::int as n from public.company_settings where company_id = ${companyId}`;
    assert.equal(row.n, 1);
  } finally {
    await sql`delete from public.companies where company_id = ${companyId}`;
    await close();
    await sql.end();
  }
});
