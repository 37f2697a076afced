// The Overview page against the real database, in-process: a company with known cases in every
// state, two currencies, nudges sent at steps 0 and 1 and clicks (one from a bot), next to another
// company that reuses the same membership and user ids. Every KPI, the chart and the funnel must
// show exactly what was seeded for the viewer's company, for 30 and for 90 days.
import assert from "node:assert/strict";
import { createApp } from "../../web/app.ts";
import { adminToken } from "../support/dashboard.ts";
import { connectAsOwner, dashboardEnv } from "../support/stack.ts";
import { uniqueCompany } from "../support/webhooks.ts";

type Sql = ReturnType<typeof connectAsOwner>;

const TIME_ZONE = "Pacific/Auckland"; // far from UTC, so day buckets in UTC would be visibly wrong
const DAY_MS = 86_400_000;
const now = Date.now();
const daysAgo = (days: number) => new Date(now - days * DAY_MS);

interface CaseSpec {
  key: string;
  status: "open" | "recovered" | "lost" | "expired" | "dismissed";
  opened: number; // days ago
  closed?: number; // days ago
  attribution?: "click_through" | "nudged" | "organic";
  currency?: string;
  atRisk?: number;
  recovered?: number;
  reason?: string;
}

// 30 days: recovered r1 r2 r3, lost l1, expired e1, dismissed d1 (rate 3/5); 90 days adds r4, l2.
// r5 is older than both ranges. Open: c1..c4 (c4 has no amount).
const CASES: CaseSpec[] = [
  { key: "c1", status: "open", opened: 1, currency: "usd", atRisk: 2999 },
  { key: "c2", status: "open", opened: 2, currency: "eur", atRisk: 1500 },
  { key: "c3", status: "open", opened: 3, currency: "usd", atRisk: 1001 },
  { key: "c4", status: "open", opened: 1.2, reason: "cancel_scheduled" },
  {
    key: "r1",
    status: "recovered",
    opened: 10,
    closed: 8,
    attribution: "click_through",
    currency: "usd",
    atRisk: 2999,
    recovered: 2999,
  },
  {
    key: "r2",
    status: "recovered",
    opened: 6,
    closed: 5,
    attribution: "nudged",
    currency: "eur",
    atRisk: 1500,
    recovered: 1500,
  },
  {
    key: "r3",
    status: "recovered",
    opened: 20,
    closed: 19,
    attribution: "organic",
    currency: "usd",
    atRisk: 500,
    recovered: 500,
  },
  { key: "l1", status: "lost", opened: 12, closed: 11, currency: "usd", atRisk: 4000 },
  { key: "e1", status: "expired", opened: 25, closed: 11, currency: "eur", atRisk: 800 },
  { key: "d1", status: "dismissed", opened: 4, closed: 3, currency: "usd", atRisk: 1200 },
  {
    key: "r4",
    status: "recovered",
    opened: 50,
    closed: 45,
    attribution: "nudged",
    currency: "usd",
    atRisk: 700,
    recovered: 700,
  },
  { key: "l2", status: "lost", opened: 70, closed: 60, currency: "usd", atRisk: 900 },
  {
    key: "r5",
    status: "recovered",
    opened: 130,
    closed: 120,
    attribution: "organic",
    currency: "usd",
    atRisk: 9999,
    recovered: 9999,
  },
];

interface JobSpec {
  key: string;
  caseKey: string;
  step: number;
  channel?: "push" | "dm" | "incentive";
  origin?: "schedule" | "manual";
  status?: string;
  sent?: number; // days ago
}

const JOBS: JobSpec[] = [
  { key: "r1p0", caseKey: "r1", step: 0, sent: 10 },
  { key: "r1d0", caseKey: "r1", step: 0, channel: "dm", sent: 9.99 },
  { key: "r1p1", caseKey: "r1", step: 1, sent: 9 },
  { key: "r2p0", caseKey: "r2", step: 0, sent: 6 },
  { key: "r2d1", caseKey: "r2", step: 1, channel: "dm", status: "cancelled" },
  { key: "c1p0", caseKey: "c1", step: 0, sent: 0.9 },
  { key: "c1d0", caseKey: "c1", step: 0, channel: "dm", status: "failed" },
  { key: "c1i0", caseKey: "c1", step: 0, channel: "incentive", sent: 0.9 }, // not a nudge
  { key: "c2d0", caseKey: "c2", step: 0, channel: "dm", sent: 1.9 },
  { key: "c3m0", caseKey: "c3", step: 0, origin: "manual", sent: 2 }, // manual: not in the funnel
  { key: "r3p0", caseKey: "r3", step: 0, sent: 20 },
  { key: "r3p1", caseKey: "r3", step: 1, sent: 19.5 },
  { key: "l1p0", caseKey: "l1", step: 0, sent: 12 },
  { key: "l1p1", caseKey: "l1", step: 1, sent: 11.5 },
  { key: "r4p0", caseKey: "r4", step: 0, sent: 50 },
];

// A human click on r1's step-1 link and on c2's step-0 link; a bot preview of r1's and c1's
// step-0 links (never counted); a human click without a job (counts for no step).
const CLICKS = [
  { caseKey: "r1", jobKey: "r1p1", at: 8.5, bot: false },
  { caseKey: "r1", jobKey: "r1p0", at: 9.9, bot: true },
  { caseKey: "c1", jobKey: "c1p0", at: 0.8, bot: true },
  { caseKey: "c2", jobKey: "c2d0", at: 1.5, bot: false },
  { caseKey: "c3", jobKey: null, at: 1, bot: false },
];

async function seedCompany(sql: Sql, companyId: string, cases: CaseSpec[], jobs: JobSpec[], clicks = CLICKS) {
  await sql`insert into public.companies (company_id, title) values (${companyId}, 'Overview test')`;
  await sql`insert into public.company_settings (company_id, time_zone) values (${companyId}, ${TIME_ZONE})`;
  const caseIds = new Map<string, string>();
  for (const spec of cases) {
    const [row] = await sql<{ id: string }[]>`
      insert into public.recovery_cases (company_id, membership_id, user_id, status, reason, opened_at, closed_at,
        attribution, amount_at_risk_minor, recovered_amount_minor, currency)
      values (${companyId}, ${`mem_${spec.key}`}, ${`user_${spec.key}`}, ${spec.status},
        ${spec.reason ?? "payment_failed"}, ${daysAgo(spec.opened)},
        ${spec.closed === undefined ? null : daysAgo(spec.closed)}, ${spec.attribution ?? null},
        ${spec.atRisk ?? null}, ${spec.recovered ?? null}, ${spec.currency ?? null})
      returning id`;
    caseIds.set(spec.key, row.id);
  }
  const jobIds = new Map<string, string>();
  for (const job of jobs) {
    const sentAt = job.sent === undefined ? null : daysAgo(job.sent);
    // Due when the case engine would have scheduled it on the default schedule {0,2,4}: the funnel
    // labels each nudge with the day (after opening) it was due.
    const [row] = await sql<{ id: string }[]>`
      insert into public.job_queue (case_id, company_id, channel, step, origin, status, scheduled_for, sent_at)
      select c.id, ${companyId}, ${job.channel ?? "push"}, ${job.step},
        ${job.origin ?? "schedule"}, ${job.status ?? (sentAt ? "sent" : "cancelled")},
        private.nudge_due_at(c.opened_at, (array[0, 2, 4])[${job.step} + 1], 12, ${TIME_ZONE}), ${sentAt}
      from public.recovery_cases c where c.id = ${caseIds.get(job.caseKey)!}
      returning id`;
    jobIds.set(job.key, row.id);
  }
  for (const click of clicks) {
    await sql`
      insert into public.link_clicks (company_id, case_id, job_id, clicked_at, is_bot)
      values (${companyId}, ${caseIds.get(click.caseKey)!}, ${
      click.jobKey ? jobIds.get(click.jobKey)! : null
    },
        ${daysAgo(click.at)}, ${click.bot})`;
  }
}

/** The calendar day of `date` in the test's time zone, as YYYY-MM-DD. */
const localDay = (date: Date) => new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE }).format(date);

function expectedDays(range: number) {
  const days = new Map<string, { opened: number; recovered: number }>();
  const today = localDay(new Date());
  for (let i = range - 1; i >= 0; i--) {
    // Noon UTC steps through the days without falling into DST gaps.
    const day = new Date(`${today}T12:00:00Z`);
    day.setUTCDate(day.getUTCDate() - i);
    days.set(day.toISOString().slice(0, 10), { opened: 0, recovered: 0 });
  }
  for (const spec of CASES) {
    const opened = days.get(localDay(daysAgo(spec.opened)));
    if (opened) opened.opened++;
    if (spec.status === "recovered") {
      const recovered = days.get(localDay(daysAgo(spec.closed!)));
      if (recovered) recovered.recovered++;
    }
  }
  return days;
}

// ---- reading the page ------------------------------------------------------------------------

/** The HTML of one KPI tile (from its data-kpi attribute to the next tile or the end of the row). */
function tile(html: string, kpi: string): string {
  const start = html.indexOf(`data-kpi="${kpi}"`);
  assert.ok(start >= 0, `tile ${kpi} is on the page`);
  const next = html.indexOf("data-kpi=", start + 10);
  return html.slice(start, next < 0 ? html.indexOf("</section>", start) : next);
}

const tileValue = (html: string, kpi: string) => tile(html, kpi).match(/data-value="([^"]*)"/)?.[1];

function money(html: string, kpi: string) {
  return [...tile(html, kpi).matchAll(/data-currency="(\w+)" data-value="(\d+)" data-cases="(\d+)"/g)]
    .map(([, currency, amount, cases]) => ({ currency, amount: Number(amount), cases: Number(cases) }));
}

function attribution(html: string) {
  return Object.fromEntries(
    [...tile(html, "attribution").matchAll(/data-attribution="(\w+)" data-value="(\d+)"/g)]
      .map(([, kind, count]) => [kind, Number(count)]),
  );
}

function chartDays(html: string) {
  return new Map(
    [...html.matchAll(/data-day="([\d-]+)" data-opened="(\d+)" data-recovered="(\d+)"/g)]
      .map(([, day, opened, recovered]) => [day, { opened: Number(opened), recovered: Number(recovered) }]),
  );
}

function funnel(html: string) {
  return [...html.matchAll(/<tr data-step="(\d+)"(?: data-offset="\d+")?>([\s\S]*?)<\/tr>/g)].map(
    ([, step, row]) => {
      const [jobsSent, casesClicked, casesRecovered] = [...row.matchAll(/data-value="(\d+)"/g)]
        .map(([, value]) => Number(value));
      return { step: Number(step), jobsSent, casesClicked, casesRecovered };
    },
  );
}

// ---- the tests -------------------------------------------------------------------------------

async function withOverview(
  fn: (ctx: { sql: Sql; get: (companyId: string, query?: string) => Promise<string> }) => Promise<void>,
) {
  const sql = connectAsOwner();
  const { app, close } = await createApp(dashboardEnv());
  const companies: string[] = [];
  const tokens = new Map<string, string>();
  try {
    await fn({
      sql,
      get: async (companyId, query = "") => {
        if (!companies.includes(companyId)) companies.push(companyId);
        if (!tokens.has(companyId)) tokens.set(companyId, (await adminToken(companyId)).token);
        const response = await app.fetch(
          new Request(`http://dashboard/dashboard/${companyId}${query}`, {
            headers: { accept: "text/html", "x-whop-user-token": tokens.get(companyId)! },
          }),
        );
        const html = await response.text();
        assert.equal(response.status, 200, html.slice(0, 500));
        return html;
      },
    });
  } finally {
    if (companies.length) await sql`delete from public.companies where company_id in ${sql(companies)}`;
    await close();
    await sql.end();
  }
}

Deno.test("overview: every figure matches the seeded cases, for 30 and 90 days, and no other tenant leaks in", async () => {
  await withOverview(async ({ sql, get }) => {
    const companyId = uniqueCompany("ov");
    const otherId = uniqueCompany("ovx");
    await seedCompany(sql, companyId, CASES, JOBS);
    // Another tenant with the very same membership and user ids, and bigger numbers everywhere.
    await seedCompany(
      sql,
      otherId,
      CASES.map((spec) => ({
        ...spec,
        atRisk: (spec.atRisk ?? 0) + 100_000,
        recovered: spec.recovered && 77_777,
      })),
      JOBS,
      CLICKS.map((click) => ({ ...click, bot: false })),
    );

    const html = await get(companyId);
    assert.match(html, /<h1>Overview<\/h1>/);
    assert.match(html, /href="\/static\/css\/overview\.css"/);
    assert.match(html, /aria-current="page"[^>]*data-range="30"/, "30 days is the default");

    // Right now.
    assert.equal(tileValue(html, "open_cases"), "4");
    assert.deepEqual(money(html, "revenue_at_risk"), [
      { currency: "eur", amount: 1500, cases: 1 },
      { currency: "usd", amount: 4000, cases: 2 },
    ]);
    assert.ok(
      tile(html, "revenue_at_risk").includes("$40.00") && tile(html, "revenue_at_risk").includes("€15.00"),
    );

    // Closed in the last 30 days.
    assert.equal(tileValue(html, "recovered_cases"), "3");
    assert.equal(tileValue(html, "recovery_rate"), "0.6000");
    assert.ok(tile(html, "recovery_rate").includes("60.0%"));
    assert.ok(
      html.includes("Recovered ÷ (recovered + lost + expired)"),
      "the rate's definition is on the page",
    );
    assert.deepEqual(money(html, "recovered_revenue"), [
      { currency: "eur", amount: 1500, cases: 1 },
      { currency: "usd", amount: 3499, cases: 2 },
    ]);
    assert.ok(tile(html, "recovered_revenue").includes("$34.99"));
    assert.deepEqual(attribution(html), { click_through: 1, nudged: 1, organic: 1 });

    // The chart: every day of the range, zero-filled, bucketed in the company's time zone.
    const days = chartDays(html);
    assert.equal(days.size, 30);
    assert.deepEqual(days, expectedDays(30));
    assert.equal([...days.values()].reduce((n, day) => n + day.opened, 0), 10);
    assert.match(
      html,
      /<svg[^>]*role="img"[^>]*aria-label="Cases opened and recovered per day, last 30 days/,
    );
    assert.match(html, /10 opened, 3 recovered/);
    assert.match(html, /<title>[^<]*: \d+ opened, \d+ recovered<\/title>/);

    // The funnel: scheduled push/DM nudges only, human clicks on that step's links only.
    assert.deepEqual(funnel(html), [
      { step: 0, jobsSent: 7, casesClicked: 1, casesRecovered: 3 },
      { step: 1, jobsSent: 3, casesClicked: 1, casesRecovered: 2 },
    ]);
    assert.match(html, /Nudge 1 · day 0/);
    assert.match(html, /Nudge 2 · day 2/);

    // 90 days adds r4 (recovered, nudged, $7.00) and l2 (lost); r5 stays out.
    const wide = await get(companyId, "?range=90");
    assert.match(wide, /aria-current="page"[^>]*data-range="90"/);
    assert.equal(tileValue(wide, "open_cases"), "4", "right-now figures ignore the range");
    assert.equal(tileValue(wide, "recovered_cases"), "4");
    assert.equal(tileValue(wide, "recovery_rate"), (4 / 7).toFixed(4));
    assert.ok(tile(wide, "recovery_rate").includes("57.1%"));
    assert.deepEqual(money(wide, "recovered_revenue"), [
      { currency: "eur", amount: 1500, cases: 1 },
      { currency: "usd", amount: 4199, cases: 3 },
    ]);
    assert.deepEqual(attribution(wide), { click_through: 1, nudged: 2, organic: 1 });
    const wideDays = chartDays(wide);
    assert.equal(wideDays.size, 90);
    assert.deepEqual(wideDays, expectedDays(90));
    assert.deepEqual(funnel(wide), [
      { step: 0, jobsSent: 8, casesClicked: 1, casesRecovered: 4 },
      { step: 1, jobsSent: 3, casesClicked: 1, casesRecovered: 2 },
    ]);

    // Anything but 90 means 30.
    for (const query of ["?range=7", "?range=abc", "?range=", "?range=90x"]) {
      const page = await get(companyId, query);
      assert.equal(chartDays(page).size, 30, query);
      assert.equal(tileValue(page, "recovered_cases"), "3", query);
    }

    // The other tenant sees its own (bigger) numbers, not a sum of both.
    const other = await get(otherId);
    assert.equal(tileValue(other, "open_cases"), "4");
    assert.deepEqual(money(other, "revenue_at_risk"), [
      { currency: "eur", amount: 101_500, cases: 1 },
      { currency: "usd", amount: 204_000, cases: 2 },
    ]);
    assert.deepEqual(funnel(other)[0], { step: 0, jobsSent: 7, casesClicked: 3, casesRecovered: 3 });
  });
});

Deno.test("overview: a company without cases gets a helpful empty state", async () => {
  await withOverview(async ({ sql, get }) => {
    const companyId = uniqueCompany("ove");
    await sql`insert into public.companies (company_id, title) values (${companyId}, 'Empty company')`;
    const html = await get(companyId);
    assert.match(html, /class="empty-state" role="status"/);
    assert.match(html, /No recovery cases yet/);
    assert.match(html, new RegExp(`href="/dashboard/${companyId}/settings"`));
    assert.doesNotMatch(html, /data-kpi=/);
    // Without settings the page still works (UTC, default schedule) for any range.
    assert.match(await get(companyId, "?range=90"), /No recovery cases yet/);
  });
});

Deno.test("overview: cases only outside the range show zeros and a quiet chart, not an empty dashboard", async () => {
  await withOverview(async ({ sql, get }) => {
    const companyId = uniqueCompany("ovq");
    await seedCompany(sql, companyId, CASES.filter((spec) => spec.key === "r5"), [], []);
    const html = await get(companyId);
    assert.equal(tileValue(html, "open_cases"), "0");
    assert.equal(tileValue(html, "recovered_cases"), "0");
    assert.equal(tileValue(html, "recovery_rate"), "none");
    assert.ok(tile(html, "recovery_rate").includes("—"));
    assert.match(
      html,
      /data-testid="chart-empty"[^>]*>No cases were opened or recovered in the last 30 days\. <a /,
    );
    assert.match(html, /data-testid="funnel-empty"/);
    assert.doesNotMatch(html, /No recovery cases yet/);
  });
});

Deno.test("overview: daily rollups give the same figures as live rows, and keep history after rows are purged", async () => {
  await withOverview(async ({ sql, get }) => {
    const companyId = uniqueCompany("ovr");
    await seedCompany(sql, companyId, CASES, JOBS);
    const live = { 30: await get(companyId), 90: await get(companyId, "?range=90") };
    const figures = (html: string) => ({
      open: tileValue(html, "open_cases"),
      recovered: tileValue(html, "recovered_cases"),
      rate: tileValue(html, "recovery_rate"),
      revenue: money(html, "recovered_revenue"),
      atRisk: money(html, "revenue_at_risk"),
      attribution: attribution(html),
      days: chartDays(html),
      funnel: funnel(html),
      // The newer figures too: rate by amount (with the previous period) and the breakdown tables.
      amountRate: tile(html, "amount_rate"),
      breakdowns: html.slice(
        html.indexOf('id="ov-breakdowns-heading"'),
        html.indexOf("</section>", html.indexOf('id="ov-breakdowns-heading"')),
      ),
    });

    // First refresh: every day up to yesterday in the company's zone is rolled up.
    const [{ written }] = await sql<{ written: number }[]>`
      select private.refresh_daily_stats(${companyId}) as written`;
    assert.ok(written > 5, `rollup rows written: ${written}`);
    const [{ through, yesterday }] = await sql<{ through: string; yesterday: string }[]>`
      select through::text as through, ((now() at time zone ${TIME_ZONE})::date - 1)::text as yesterday
      from public.daily_stats_watermarks where company_id = ${companyId}`;
    assert.equal(through, yesterday);
    for (const range of [30, 90] as const) {
      const query = range === 90 ? "?range=90" : "";
      assert.deepEqual(figures(await get(companyId, query)), figures(live[range]), `${range} days`);
    }

    // A stale watermark (the hourly refresh stopped 20 days ago): the rest is computed live.
    await sql`update public.daily_stats_watermarks set through = through - 20 where company_id = ${companyId}`;
    await sql`delete from public.daily_company_stats
              where company_id = ${companyId} and day > (select through from public.daily_stats_watermarks
                                                          where company_id = ${companyId})`;
    assert.deepEqual(figures(await get(companyId, "?range=90")), figures(live[90]));
    // The next refresh fills the gap, not only the last week.
    await sql`select private.refresh_daily_stats(${companyId})`;
    assert.deepEqual(figures(await get(companyId, "?range=90")), figures(live[90]));

    // Retention purges closed cases (with their nudges and clicks); the history stays. Only the
    // right-now figures, which count open cases, may change, and these are untouched here.
    await sql`delete from public.recovery_cases
              where company_id = ${companyId} and status <> 'open'
                and closed_at < (${yesterday}::date)::timestamp at time zone ${TIME_ZONE}`;
    const purged = await get(companyId, "?range=90");
    assert.deepEqual(figures(purged), figures(live[90]));
    assert.equal(tileValue(purged, "recovered_cases"), "4", "recoveries of purged cases still count");
  });
});
