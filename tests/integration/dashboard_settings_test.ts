// The settings page end to end: the dashboard app in-process (real Whop token from the sandbox, real
// database under RLS), then the real dispatcher, to see a saved setting used by the next nudge.
import assert from "node:assert/strict";
import { type SettingsFormValues, settingsToForm } from "../../web/components/settings/form_model.ts";
import { createApp } from "../../web/app.ts";
import {
  crossSiteAttempts,
  grantAccess,
  settingsFormBody as formBody,
  userToken,
} from "../support/dashboard.ts";
import { DEFAULT_SETTINGS } from "../../web/queries/settings.ts";
import { isolateQueue, sandbox, withDispatchApp } from "../support/dispatch.ts";
import { connectAsOwner, dashboardEnv } from "../support/stack.ts";
import { setFlags } from "../support/webhooks.ts";

type Sql = ReturnType<typeof connectAsOwner>;
const ORIGIN = "http://dashboard.test";

interface Ctx {
  sql: Sql;
  companyId: string;
  userId: string;
  get: (path: string) => Promise<{ status: number; html: string }>;
  post: (body: URLSearchParams, headers?: Record<string, string>, companyId?: string) => Promise<Response>;
  settings: (companyId?: string) => Promise<Record<string, unknown>>;
  audit: () => Promise<{ actor: string; action: string; before: unknown; after: unknown }[]>;
  newCompany: () => Promise<string>;
}

/** A company of its own with a settings row, an admin with a Whop token, and the dashboard app. */
async function withSettingsPage(fn: (ctx: Ctx) => Promise<void>) {
  const sql = connectAsOwner();
  const { app, close } = await createApp(dashboardEnv());
  const created: string[] = [];
  const newCompany = async () => {
    const id = `biz_set${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    await sql`insert into public.companies (company_id, title) values (${id}, 'Settings Co')`;
    await sql`insert into public.company_settings (company_id) values (${id})`;
    created.push(id);
    return id;
  };
  const companyId = await newCompany();
  const userId = `user_set_${companyId.slice(7)}`;
  await grantAccess(userId, companyId);
  const token = await userToken(userId);
  const headers = { "x-whop-user-token": token, accept: "text/html" };
  try {
    await fn({
      sql,
      companyId,
      userId,
      newCompany,
      get: async (path) => {
        const response = await app.fetch(new Request(`${ORIGIN}${path}`, { headers }));
        return { status: response.status, html: await response.text() };
      },
      post: async (body, extra = { "sec-fetch-site": "same-origin", origin: ORIGIN }, target = companyId) =>
        await app.fetch(
          new Request(`${ORIGIN}/dashboard/${target}/settings`, {
            method: "POST",
            headers: { ...headers, "content-type": "application/x-www-form-urlencoded", ...extra },
            body,
          }),
        ),
      settings: async (id = companyId) => {
        const [row] = await sql`select nudge_offsets_days, send_hour, time_zone, push_enabled, dm_enabled,
                                       experience_id, incentive_free_days, attribution_window_days,
                                       nudges_paused, templates
                                from public.company_settings where company_id = ${id}`;
        return { ...row };
      },
      audit: async () => [
        ...await sql<{ actor: string; action: string; before: unknown; after: unknown }[]>`
          select actor, action, before, after from public.audit_log where company_id = ${companyId} order by id`,
      ],
    });
  } finally {
    for (const id of created) await sql`delete from public.companies where company_id = ${id}`;
    await sql.end();
    await close();
  }
}

function defaults(overrides: Partial<SettingsFormValues> = {}): SettingsFormValues {
  return { ...settingsToForm(DEFAULT_SETTINGS), ...overrides };
}

/** The error shown next to a field, and whether its control is marked invalid and points at it. */
function fieldError(html: string, id: string): string | null {
  const error = html.match(new RegExp(`<p id="${id}-error" class="field-error">([^<]*)</p>`))?.[1] ?? null;
  if (error === null) return null;
  const control = html.match(new RegExp(`<(input|select|textarea)[^>]*id="${id}"[^>]*>`))?.[0] ?? "";
  assert.match(control, /aria-invalid="true"/, `${id} is marked invalid`);
  assert.match(control, new RegExp(`aria-describedby="[^"]*${id}-error`), `${id} points at its error`);
  return error.replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll(
    "&amp;",
    "&",
  );
}

Deno.test("settings: the page shows the saved values, the variables and a live preview", async () => {
  await withSettingsPage(async ({ sql, companyId, get }) => {
    await sql`update public.company_settings set nudge_offsets_days = '{0,3,7}', send_hour = 9,
              time_zone = 'Europe/Berlin', experience_id = 'exp_shown', incentive_free_days = 5,
              attribution_window_days = 21, dm_enabled = false,
              templates = '{"dm": {"1": {"content": "Second DM for {first_name}: {recovery_link}"}}}'
              where company_id = ${companyId}`;
    const { status, html } = await get(`/dashboard/${companyId}/settings`);
    assert.equal(status, 200);
    assert.match(html, /<input[^>]*value="0, 3, 7"[^>]*id="f-nudge_offsets_days"/);
    assert.match(html, /<option value="9" selected(="")?>09:00<\/option>/);
    assert.match(html, /<option value="Europe\/Berlin" selected(="")?>/);
    assert.match(html, /value="exp_shown"/);
    assert.match(html, /<input[^>]*value="5"[^>]*id="f-incentive_free_days"/);
    assert.match(html, /<input[^>]*value="21"[^>]*id="f-attribution_window_days"/);
    assert.match(html, /<input type="checkbox"[^>]*id="f-push_enabled"[^>]*checked(="")?/);
    assert.doesNotMatch(html, /<input type="checkbox"[^>]*id="f-dm_enabled"[^>]*checked/);
    assert.match(html, /Second DM for \{first_name\}: \{recovery_link\}<\/textarea>/);
    // Steps 1 to 3 of the schedule, each with the day it goes out.
    assert.match(html, /Nudge 3<span class="muted"> · day 7<\/span>/);
    for (const name of ["first_name", "product", "amount", "recovery_link", "free_days", "company"]) {
      assert.ok(html.includes(`<code>{${name}}</code>`), `variable {${name}} is listed`);
    }
    // The preview island, server-rendered with the sample member and the company's values.
    assert.match(html, /data-island="template_preview"/);
    assert.match(html, /Second DM for Alex: http:\/\/dashboard\.test\/r\/preview-link/);
    assert.match(html, /with 5 free days announced by this nudge/);
    assert.match(html, /Direct message \(channel off: not sent\)/);
    assert.doesNotMatch(html, /no experience id/);
  });
});

Deno.test("settings: push without an experience id is flagged on the page", async () => {
  await withSettingsPage(async ({ companyId, get }) => {
    const { html } = await get(`/dashboard/${companyId}/settings`);
    assert.match(html, /Push is on but there is no experience id/);
  });
});

Deno.test("settings: every invalid field shows its error next to it, keeps what was typed, saves nothing", async () => {
  await withSettingsPage(async ({ post, settings, audit }) => {
    const before = await settings();
    const response = await post(formBody(defaults({
      nudge_offsets_days: "4, 2, 4",
      send_hour: "24",
      time_zone: "Mars/Olympus_Mons",
      push_enabled: false,
      dm_enabled: false,
      experience_id: "experience-1",
      incentive_free_days: "2000",
      attribution_window_days: "0",
      templates: {
        ...defaults().templates,
        "push.0.title": "Hi {nickname}",
        "dm.2.content": "{?free_days}Free days!",
      },
    })));
    assert.equal(response.status, 422);
    const html = await response.text();
    const expected: Record<string, RegExp> = {
      "f-nudge_offsets_days": /Day 4 is listed twice/,
      "f-send_hour": /from 0 to 23/,
      "f-time_zone": /from the list/,
      "f-channels": /at least one channel/,
      "f-experience_id": /exp_/,
      "f-incentive_free_days": /from 1 to 1095, or choose no free days/,
      "f-attribution_window_days": /from 1 to 90/,
      "f-templates-push-0-title": /Unknown variable \{nickname\}/,
      "f-templates-dm-2-content": /never closed/,
    };
    for (const [id, message] of Object.entries(expected)) {
      if (id === "f-channels") {
        assert.match(html, /<p id="f-channels-error" class="field-error">[^<]*at least one channel/);
        assert.match(
          html,
          /id="f-push_enabled"[^>]*aria-describedby="f-channels-error"|aria-describedby="f-channels-error"[^>]*id="f-push_enabled"/,
        );
        continue;
      }
      assert.match(fieldError(html, id) ?? "", message, `${id}: its own error`);
    }
    assert.match(html, /9 settings need a fix; nothing was saved/);
    // What was typed is still there.
    assert.match(html, /value="4, 2, 4"/);
    assert.match(html, /value="experience-1"/);
    assert.match(html, /value="2000"/);
    assert.match(html, /value="Hi \{nickname\}"/);
    assert.deepEqual(await settings(), before);
    assert.deepEqual(await audit(), []);
  });
});

Deno.test("settings: nudge days are whole numbers 0-30, at most 10, each once; saved in order", async () => {
  await withSettingsPage(async ({ post, settings }) => {
    const cases: [string, RegExp | null][] = [
      ["", /Enter the days/],
      ["0, two, 4", /"two" is not a whole number/],
      ["0, -1", /"-1" is not a whole number/],
      ["0, 1.5", /"1.5" is not a whole number/],
      ["0, 31", /0 \(when the case opens\) to 30/],
      ["0, 2, 2", /Day 2 is listed twice/],
      ["0,1,2,3,4,5,6,7,8,9,10", /At most 10 nudges/],
      ["1 3 30", null],
      ["7, 0, 3", null],
      ["0,1,2,3,4,5,6,7,8,9", null],
    ];
    for (const [typed, error] of cases) {
      const response = await post(formBody(defaults({ nudge_offsets_days: typed, experience_id: "exp_x" })));
      const html = await response.text();
      if (error === null) {
        assert.equal(response.status, 303, `"${typed}" is accepted: ${html.slice(0, 200)}`);
        const saved = (await settings()).nudge_offsets_days as number[];
        assert.deepEqual(saved, typed.split(/[ ,]+/).map(Number).sort((a, b) => a - b));
      } else {
        assert.equal(response.status, 422, `"${typed}" is refused`);
        assert.match(fieldError(html, "f-nudge_offsets_days") ?? "", error, `"${typed}"`);
      }
    }
  });
});

Deno.test("settings: a valid save is audited with only the changed fields, and the next nudge uses it", async () => {
  await withSettingsPage(async ({ sql, companyId, userId, get, post, settings, audit }) => {
    const customDm = "Hey {first_name}, custom settings text with {free_days} free days: {recovery_link}";
    const response = await post(formBody(defaults({
      send_hour: "9",
      experience_id: "exp_settings_saved",
      incentive_free_days: "7",
      templates: { ...defaults().templates, "dm.0.content": `${customDm}\r\n` },
    })));
    assert.equal(response.status, 303);
    const location = response.headers.get("location")!;
    assert.equal(location, `/dashboard/${companyId}/settings?notice=saved`);
    assert.match((await get(location)).html, /role="status">Settings saved/);

    const saved = await settings();
    assert.equal(saved.send_hour, 9);
    assert.equal(saved.experience_id, "exp_settings_saved");
    assert.equal(saved.incentive_free_days, 7);
    // Only the edited template is an override; untouched (default) text is not stored.
    assert.deepEqual(saved.templates, { dm: { "0": { content: customDm } } });

    const [entry, ...more] = await audit();
    assert.equal(more.length, 0);
    assert.equal(entry.action, "settings.update");
    assert.equal(entry.actor, userId);
    assert.deepEqual(entry.before, {
      send_hour: 10,
      experience_id: null,
      incentive_free_days: 3,
      templates: {},
    });
    assert.deepEqual(entry.after, {
      send_hour: 9,
      experience_id: "exp_settings_saved",
      incentive_free_days: 7,
      templates: { dm: { "0": { content: customDm } } },
    });

    // The next nudges of an open case go out with the new template, incentive days and experience.
    await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
    await isolateQueue(sql, companyId);
    // A case opened after the save: it is offered the new 7 days (a case keeps what it opened with).
    const [openCase] = await sql<{ id: string }[]>`
      insert into public.recovery_cases (company_id, membership_id, user_id, reason, opened_at, manage_url)
      values (${companyId}, 'mem_settings', 'user_member_settings', 'payment_failed', now() - interval '1 minute',
              'https://whop.com/billing/manage/mem_settings')
      returning id`;
    await sql`select private.schedule_case_jobs(${openCase.id}::uuid)`;
    const jobs = await sql<{ id: string; channel: string }[]>`
      select id, channel from public.job_queue where case_id = ${openCase.id}`;
    await withDispatchApp(async (dispatch) => {
      const counts = await dispatch();
      assert.equal(counts.sent, 2, JSON.stringify(counts));
    });
    const keys = new Set(jobs.map((job) => `job:${job.id}`));
    const calls = (await sandbox.calls()).filter((call) =>
      keys.has(String(call.idempotency_key).replace(/:(channel|message)$/, ""))
    );
    const dm = calls.find((call) => call.path === "/api/v1/messages");
    assert.match(String(dm?.body?.content), /^Hey there, custom settings text with 7 free days: http/);
    const push = calls.find((call) => call.path === "/api/v1/notifications");
    assert.equal(push?.body?.experience_id, "exp_settings_saved");
  });
});

Deno.test("settings: saving what is already saved changes and audits nothing", async () => {
  await withSettingsPage(async ({ companyId, post, audit, settings }) => {
    const before = await settings();
    // The first save records the set-up choices (time zone, incentive) even with no value changed.
    const first = await post(formBody(defaults()));
    assert.equal(first.headers.get("location"), `/dashboard/${companyId}/settings?notice=saved`);
    const response = await post(formBody(defaults()));
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("location"), `/dashboard/${companyId}/settings?notice=unchanged`);
    assert.deepEqual(await settings(), before);
    assert.deepEqual(await audit(), []);
  });
});

Deno.test("settings: pausing and channels are saved; the pause is shown on the page", async () => {
  await withSettingsPage(async ({ companyId, get, post, settings }) => {
    const response = await post(formBody(defaults({ nudges_paused: true, push_enabled: false })));
    assert.equal(response.status, 303);
    const saved = await settings();
    assert.equal(saved.nudges_paused, true);
    assert.equal(saved.push_enabled, false);
    assert.equal(saved.dm_enabled, true);
    const { html } = await get(`/dashboard/${companyId}/settings`);
    assert.match(html, /Nudges are paused/);
    assert.match(html, /<input type="checkbox"[^>]*id="f-nudges_paused"[^>]*checked(="")?/);
  });
});

Deno.test("settings: posts from other sites are refused and change nothing", async () => {
  await withSettingsPage(async ({ post, settings, audit }) => {
    const before = await settings();
    const body = () => formBody(defaults({ send_hour: "3" }));
    // The same table as the case actions' (tests/integration/dashboard_cross_site_test.ts runs both).
    for (const [name, headers] of crossSiteAttempts(ORIGIN)) {
      const response = await post(body(), headers);
      assert.equal(response.status, 403, name);
      assert.match(await response.text(), /This request was refused/, name);
    }
    assert.deepEqual(await settings(), before);
    assert.deepEqual(await audit(), []);
    // Without Fetch Metadata and Origin (old browsers, tools) the post is accepted.
    const plain = await post(body(), {});
    assert.equal(plain.status, 303);
  });
});

Deno.test("settings: a save touches only the viewer's company", async () => {
  await withSettingsPage(async ({ companyId, newCompany, post, settings }) => {
    const other = await newCompany();
    const otherBefore = await settings(other);
    const response = await post(formBody(defaults({ send_hour: "5", experience_id: "exp_mine" })));
    assert.equal(response.status, 303);
    assert.equal((await settings(companyId)).send_hour, 5);
    assert.deepEqual(await settings(other), otherBefore);
    // The viewer is no admin of the other company: its settings page refuses them.
    const foreign = await post(formBody(defaults({ send_hour: "6" })), undefined, other);
    assert.equal(foreign.status, 403);
    await foreign.body?.cancel();
    assert.deepEqual(await settings(other), otherBefore);
  });
});
