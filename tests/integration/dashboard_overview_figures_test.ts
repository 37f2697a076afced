// The Overview's "is it working?" figures against plain SQL over the same seeded rows: recovery rate
// by count and by amount, each with the previous period of the same length, recovered revenue (in all
// and per day), cases opened, outcomes by reason and by Whop's failure message, nudges by channel, and
// the funnel labelled by the day each nudge actually had after a schedule change ({0,2,4} → {0,3,6}).
// The expected figures come from SQL written here, straight over recovery_cases, job_queue,
// link_clicks and events (not the rollup function the page uses); the page is fetched over real
// HTTP from the dashboard app, live and again after the daily rollups were written.
import assert from "node:assert/strict";
import { type OwnerSql, type TestCompany, withCaseHarness } from "../support/case_fixtures.ts";

const TIME_ZONE = "America/New_York";
const DAY_MS = 86_400_000;
const SEND_HOUR = 10;
const ago = (days: number) => new Date(Date.now() - days * DAY_MS);

const M1 = "Your card has insufficient funds.";
const M2 = "Your card was declined.";
const M3 = "Your card has expired.";

interface Spec {
  key: string;
  status: "open" | "recovered" | "lost" | "expired" | "dismissed";
  reason: "payment_failed" | "action_required" | "cancel_scheduled";
  opened: number; // days ago
  closed?: number;
  attribution?: "click_through" | "nudged" | "organic";
  currency?: string | null;
  atRisk?: number | null;
  recovered?: number;
  message?: string;
  /** Nudges scheduled: [step, channel]; each is due per the case's schedule, sent if due before it closed. */
  nudges?: [number, "push" | "dm"][];
  /** Human (or bot) clicks on one of its nudges' links: [step, channel, days ago, bot]. */
  clicks?: [number, "push" | "dm", number, boolean][];
  schedule: number[];
}

const NEW = [0, 3, 6];
const OLD = [0, 2, 4];

// Current 30 days: closes 2–11 days ago. Previous 30 days: closes 33–40 days ago. O1 is older.
const SPECS: Spec[] = [
  {
    key: "A",
    status: "recovered",
    reason: "payment_failed",
    opened: 12,
    closed: 5,
    attribution: "click_through",
    atRisk: 3000,
    recovered: 3000,
    message: M1,
    nudges: [[0, "push"], [0, "dm"], [1, "push"], [2, "push"]],
    clicks: [[1, "push", 8.5, false], [0, "dm", 11.9, true]],
    schedule: NEW,
  },
  {
    key: "B",
    status: "lost",
    reason: "payment_failed",
    opened: 14,
    closed: 4,
    atRisk: 5000,
    message: M1,
    nudges: [[0, "push"], [1, "dm"], [2, "dm"]],
    schedule: NEW,
  },
  {
    key: "C",
    status: "recovered",
    reason: "payment_failed",
    opened: 9,
    closed: 2.5,
    attribution: "nudged",
    atRisk: 2000,
    recovered: 1500,
    message: M2,
    nudges: [[0, "push"], [1, "push"], [2, "push"]],
    schedule: NEW,
  },
  {
    key: "D",
    status: "recovered",
    reason: "cancel_scheduled",
    opened: 4,
    closed: 2,
    attribution: "organic",
    atRisk: 1000,
    recovered: 1000,
    nudges: [[0, "push"]],
    schedule: NEW,
  },
  {
    key: "E",
    status: "expired",
    reason: "cancel_scheduled",
    opened: 25,
    closed: 11,
    currency: null,
    atRisk: null,
    schedule: NEW,
  },
  {
    key: "F",
    status: "recovered",
    reason: "action_required",
    opened: 7,
    closed: 6,
    attribution: "click_through",
    currency: "eur",
    atRisk: 1200,
    recovered: 1200,
    nudges: [[0, "dm"]],
    clicks: [[0, "dm", 6.5, false]],
    schedule: NEW,
  },
  {
    key: "G",
    status: "dismissed",
    reason: "payment_failed",
    opened: 4,
    closed: 3,
    atRisk: 900,
    schedule: NEW,
  },
  {
    key: "H",
    status: "open",
    reason: "payment_failed",
    opened: 1,
    atRisk: 700,
    message: M2,
    nudges: [[0, "push"]],
    schedule: NEW,
  },
  {
    key: "P1",
    status: "recovered",
    reason: "payment_failed",
    opened: 45,
    closed: 40,
    attribution: "nudged",
    atRisk: 4000,
    recovered: 4000,
    message: M2,
    nudges: [[0, "push"], [1, "push"], [2, "push"]],
    schedule: OLD,
  },
  {
    key: "P2",
    status: "lost",
    reason: "payment_failed",
    opened: 50,
    closed: 35,
    atRisk: 4000,
    message: M1,
    nudges: [[0, "push"], [0, "dm"], [1, "push"]],
    clicks: [[1, "push", 47, false]],
    schedule: OLD,
  },
  {
    key: "P3",
    status: "lost",
    reason: "cancel_scheduled",
    opened: 40,
    closed: 33,
    atRisk: 1000,
    schedule: OLD,
  },
  {
    key: "P4",
    status: "recovered",
    reason: "payment_failed",
    opened: 38,
    closed: 36,
    attribution: "click_through",
    currency: "eur",
    atRisk: 1000,
    recovered: 800,
    message: M3,
    nudges: [[0, "dm"]],
    clicks: [[0, "dm", 37.5, false]],
    schedule: OLD,
  },
  {
    key: "O1",
    status: "recovered",
    reason: "payment_failed",
    opened: 130,
    closed: 120,
    attribution: "organic",
    atRisk: 9999,
    recovered: 9999,
    schedule: OLD,
  },
];

async function seed(sql: OwnerSql, biz: TestCompany) {
  const c = biz.companyId;
  await sql`update public.company_settings set time_zone = ${TIME_ZONE}, send_hour = ${SEND_HOUR},
              nudge_offsets_days = ${NEW} where company_id = ${c}`;
  for (const spec of SPECS) {
    const membershipId = `mem_${spec.key}`;
    const caseId = await biz.addCase({
      membershipId,
      userId: `user_${spec.key}`,
      status: spec.status,
      reason: spec.reason,
      openedAt: ago(spec.opened),
      closedAt: spec.closed === undefined ? null : ago(spec.closed),
      attribution: spec.attribution ?? null,
      amountMinor: spec.atRisk === undefined ? 2999 : spec.atRisk,
      recoveredMinor: spec.recovered ?? null,
      currency: spec.currency === undefined ? "usd" : spec.currency,
    });
    if (spec.message) {
      // The failure as Whop reported it (an earlier one with another message, so the latest must win).
      for (
        const [n, message, at] of [[1, "Processing error.", spec.opened], [
          2,
          spec.message,
          spec.opened - 0.1,
        ]]
      ) {
        await sql`
          insert into public.events (id, company_id, type, raw_type, api_version, membership_id, occurred_at,
                                     failure_message, processed_at)
          values (${`msg_${c}_${spec.key}_${n}`}, ${c}, 'payment.failed', 'payment.failed', 'v1', ${membershipId},
                  ${ago(at as number)}, ${message as string}, now())`;
      }
    }
    for (const [step, channel] of spec.nudges ?? []) {
      // Due when the case engine schedules it (private.nudge_due_at), sent two minutes later if the
      // case was still open then.
      await sql`
        insert into public.job_queue (case_id, company_id, channel, step, status, scheduled_for, sent_at)
        select c.id, c.company_id, ${channel}, ${step},
               case when d.due + interval '2 minutes' < coalesce(c.closed_at, now()) then 'sent' else 'cancelled' end,
               d.due,
               case when d.due + interval '2 minutes' < coalesce(c.closed_at, now()) then d.due + interval '2 minutes' end
        from public.recovery_cases c
        cross join lateral (select private.nudge_due_at(c.opened_at, ${
        spec.schedule[step]
      }::int, ${SEND_HOUR},
                                                        ${TIME_ZONE}) as due) d
        where c.id = ${caseId}`;
    }
    for (const [step, channel, at, bot] of spec.clicks ?? []) {
      await sql`
        insert into public.link_clicks (company_id, case_id, job_id, clicked_at, is_bot)
        select company_id, case_id, id, ${ago(at)}, ${bot} from public.job_queue
        where case_id = ${caseId} and step = ${step} and channel = ${channel}`;
    }
  }
}

// ---- the expected figures, in plain SQL --------------------------------------------------------

interface Expected {
  opened: number;
  recovered: number;
  rate: string;
  amountRates: { currency: string; rate: string; recovered: string; atRisk: string }[];
  revenue: { currency: string; amount: string; cases: number }[];
  byReason: { key: string; settled: number; recovered: number }[];
  byMessage: { key: string; settled: number; recovered: number }[];
  byChannel: { key: string; sent: number; clicked: number; recovered: number }[];
  funnel: { step: number; offset: number; sent: number; clicked: number; recovered: number }[];
  dailyRevenue: { currency: string; day: string; amount: string }[];
}

type Fragment = ReturnType<OwnerSql>;

const rate4 = (part: number, whole: number) => (whole === 0 ? "none" : (part / whole).toFixed(4));

async function expected(
  sql: OwnerSql,
  companyId: string,
  firstAgo: number,
  lastAgo: number,
): Promise<Expected> {
  // Local days [today - firstAgo, today - lastAgo] in the company's zone, as a timestamptz interval.
  const [{ from, to }] = await sql<{ from: Date; to: Date }[]>`
    select (((now() at time zone ${TIME_ZONE})::date - ${firstAgo}::int)::timestamp at time zone ${TIME_ZONE}) as from,
           (((now() at time zone ${TIME_ZONE})::date - ${lastAgo}::int + 1)::timestamp at time zone ${TIME_ZONE}) as to`;
  const closedIn = sql`c.company_id = ${companyId} and c.closed_at >= ${from} and c.closed_at < ${to}`;
  const settledIn = sql`${closedIn} and c.status in ('recovered', 'lost', 'expired')`;
  const [counts] = await sql<{ opened: number; recovered: number; settled: number }[]>`
    select (select count(*)::int from public.recovery_cases c
            where c.company_id = ${companyId} and c.opened_at >= ${from} and c.opened_at < ${to}) as opened,
           (select count(*)::int from public.recovery_cases c where ${closedIn} and c.status = 'recovered') as recovered,
           (select count(*)::int from public.recovery_cases c where ${settledIn}) as settled`;
  const amountRates = await sql<{ currency: string; at_risk: string; recovered: string }[]>`
    select c.currency, sum(c.amount_at_risk_minor)::text as at_risk,
           coalesce(sum(c.recovered_amount_minor) filter (where c.status = 'recovered'), 0)::text as recovered
    from public.recovery_cases c
    where ${settledIn} and c.currency is not null and c.amount_at_risk_minor is not null
    group by 1 order by 1`;
  const revenue = await sql<{ currency: string; amount: string; cases: number }[]>`
    select c.currency, sum(c.recovered_amount_minor)::text as amount, count(*)::int as cases
    from public.recovery_cases c
    where ${closedIn} and c.status = 'recovered' and c.recovered_amount_minor is not null and c.currency is not null
    group by 1 order by 1`;
  const byReason = await sql<{ key: string; settled: number; recovered: number }[]>`
    select c.reason as key, count(*)::int as settled, (count(*) filter (where c.status = 'recovered'))::int as recovered
    from public.recovery_cases c where ${settledIn} group by 1 order by 1`;
  const byMessage = await sql<{ key: string; settled: number; recovered: number }[]>`
    select coalesce((select e.failure_message from public.events e
                     where e.company_id = c.company_id and e.membership_id = c.membership_id
                       and e.type in ('payment.failed', 'payment.requires_action') and e.failure_message is not null
                       and e.occurred_at between c.opened_at and c.closed_at
                     order by e.occurred_at desc limit 1), '') as key,
           count(*)::int as settled, (count(*) filter (where c.status = 'recovered'))::int as recovered
    from public.recovery_cases c
    where ${settledIn} and c.reason in ('payment_failed', 'action_required')
    group by 1 order by 1`;
  // Each scheduled push/DM nudge with its channel and the day after opening it was due.
  const nudges = sql`
    select j.id, j.case_id, j.channel, j.step, j.status, j.sent_at,
           (j.scheduled_for at time zone ${TIME_ZONE})::date - (c.opened_at at time zone ${TIME_ZONE})::date as offset_days
    from public.job_queue j join public.recovery_cases c on c.id = j.case_id
    where j.company_id = ${companyId} and j.origin = 'schedule' and j.channel in ('push', 'dm')`;
  // Sent, first clicked and recovered-after per key of a nudge (its channel, or its step and day).
  const perKey = (k1: Fragment, k2: Fragment) =>
    sql<{ k1: string; k2: number | null; sent: number; clicked: number; recovered: number }[]>`
      with n as (${nudges}), keyed as (select n.*, ${k1} as k1, ${k2} as k2 from n)
      select g.k1, g.k2,
             (select count(*)::int from keyed s where s.k1 = g.k1 and s.k2 is not distinct from g.k2
                and s.status = 'sent' and s.sent_at >= ${from} and s.sent_at < ${to}) as sent,
             (select count(*)::int from (
                select l.case_id, min(l.clicked_at) as first from public.link_clicks l
                join keyed s on s.id = l.job_id
                where s.k1 = g.k1 and s.k2 is not distinct from g.k2 and not l.is_bot group by l.case_id) f
              where f.first >= ${from} and f.first < ${to}) as clicked,
             (select count(*)::int from public.recovery_cases c
              where ${closedIn} and c.status = 'recovered'
                and exists (select 1 from keyed s where s.k1 = g.k1 and s.k2 is not distinct from g.k2
                              and s.case_id = c.id and s.status = 'sent' and s.sent_at <= c.closed_at)) as recovered
      from (select distinct k1, k2 from keyed) g`;
  const channels = await perKey(sql`n.channel`, sql`null::int`);
  const steps = await perKey(sql`n.step::text`, sql`n.offset_days`);
  const dailyRevenue = await sql<{ currency: string; day: string; amount: string }[]>`
    select c.currency, to_char((c.closed_at at time zone ${TIME_ZONE})::date, 'YYYY-MM-DD') as day,
           sum(c.recovered_amount_minor)::text as amount
    from public.recovery_cases c
    where ${closedIn} and c.status = 'recovered' and c.currency is not null and c.recovered_amount_minor is not null
    group by 1, 2 order by 1, 2`;
  const nonZero = (row: { sent: number; clicked: number; recovered: number }) =>
    row.sent + row.clicked + row.recovered > 0;
  return {
    opened: counts.opened,
    recovered: counts.recovered,
    rate: rate4(counts.recovered, counts.settled),
    amountRates: amountRates.map((row) => ({
      currency: row.currency,
      rate: rate4(Number(row.recovered), Number(row.at_risk)),
      recovered: row.recovered,
      atRisk: row.at_risk,
    })),
    revenue: [...revenue],
    byReason: [...byReason],
    byMessage: [...byMessage],
    byChannel: channels.filter(nonZero).map((row) => ({
      key: row.k1,
      sent: row.sent,
      clicked: row.clicked,
      recovered: row.recovered,
    })).sort((a, b) => a.key.localeCompare(b.key)),
    funnel: steps.filter(nonZero).map((row) => ({
      step: Number(row.k1),
      offset: row.k2!,
      sent: row.sent,
      clicked: row.clicked,
      recovered: row.recovered,
    })).sort((a, b) => a.step - b.step || a.offset - b.offset),
    dailyRevenue: [...dailyRevenue],
  };
}

// ---- reading the page --------------------------------------------------------------------------

const unescape = (text: string) =>
  text.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");

function tile(html: string, kpi: string): string {
  const start = html.indexOf(`data-kpi="${kpi}"`);
  assert.ok(start >= 0, `tile ${kpi} is on the page`);
  const next = html.indexOf("data-kpi=", start + 10);
  return html.slice(start, next < 0 ? html.indexOf("</section>", start) : next);
}

const attr = (fragment: string, name: string) => fragment.match(new RegExp(`${name}="([^"]*)"`))?.[1];

function table(html: string, kind: string): string {
  const start = html.indexOf(`data-breakdown="${kind}"`);
  assert.ok(start >= 0, `the ${kind} breakdown is on the page`);
  return html.slice(start, html.indexOf("</table>", start));
}

function rows(fragment: string) {
  // An empty attribute is rendered bare (`data-key`): the "no message recorded" group.
  return [...fragment.matchAll(/<tr data-key(?:="([^"]*)")?>([\s\S]*?)<\/tr>/g)].map(([, key, row]) => ({
    key: unescape(key ?? ""),
    values: [...row.matchAll(/data-value="(\d+)"/g)].map(([, value]) => Number(value)),
    rate: attr(row, "data-rate"),
  }));
}

function page(html: string) {
  const amountTile = tile(html, "amount_rate");
  const revenueTile = tile(html, "recovered_revenue");
  const kpi = (name: string) => ({
    value: attr(tile(html, name).slice(0, 300), "data-value"),
    previous: attr(tile(html, name).slice(0, 300), "data-previous"),
  });
  return {
    opened: kpi("opened_cases"),
    recovered: kpi("recovered_cases"),
    rate: kpi("recovery_rate"),
    amountRates: [...amountTile.matchAll(/<li data-currency="(\w+)"([^>]*)>/g)].map(([, currency, rest]) => ({
      currency,
      rate: attr(rest, "data-rate"),
      recovered: attr(rest, "data-recovered"),
      atRisk: attr(rest, "data-at-risk"),
      previous: attr(rest, "data-previous"),
    })),
    revenue: [
      ...revenueTile.matchAll(
        /data-currency="(\w+)" data-value="(\d+)" data-cases="(\d+)" data-previous="(\d+)"/g,
      ),
    ].map(([, currency, amount, cases, previous]) => ({ currency, amount, cases: Number(cases), previous })),
    byReason: rows(table(html, "reason")).map((r) => ({
      key: r.key,
      settled: r.values[0],
      recovered: r.values[1],
      rate: r.rate,
    })),
    byMessage: rows(table(html, "failure_message")).map((r) => ({
      key: r.key,
      settled: r.values[0],
      recovered: r.values[1],
      rate: r.rate,
    })),
    byChannel: rows(table(html, "channel")).map((r) => ({
      key: r.key,
      sent: r.values[0],
      clicked: r.values[1],
      recovered: r.values[2],
    })),
    funnel: [...html.matchAll(/<tr data-step="(\d+)"(?: data-offset="(\d+)")?>([\s\S]*?)<\/tr>/g)].map(
      ([, step, offset, row]) => {
        const [sent, clicked, recovered] = [...row.matchAll(/data-value="(\d+)"/g)].map(([, v]) => Number(v));
        return {
          step: Number(step),
          offset: offset === undefined ? null : Number(offset),
          sent,
          clicked,
          recovered,
        };
      },
    ),
    dailyRevenue: [...html.matchAll(/<figure[^>]*data-currency="(\w+)"[^>]*>([\s\S]*?)<\/figure>/g)].flatMap(
      ([, currency, figure]) => {
        const wide = figure.slice(0, figure.indexOf("</svg>"));
        return [...wide.matchAll(/data-day="([\d-]+)" data-revenue="(\d+)"/g)]
          .filter(([, , amount]) => amount !== "0")
          .map(([, day, amount]) => ({ currency, day, amount }));
      },
    ),
  };
}

function assertMatches(html: string, now: Expected, before: Expected, label: string) {
  const shown = page(html);
  assert.deepEqual(
    shown.opened,
    { value: String(now.opened), previous: String(before.opened) },
    `${label}: opened`,
  );
  assert.deepEqual(
    shown.recovered,
    { value: String(now.recovered), previous: String(before.recovered) },
    `${label}: recovered`,
  );
  assert.deepEqual(shown.rate, { value: now.rate, previous: before.rate }, `${label}: recovery rate`);
  assert.deepEqual(
    shown.amountRates,
    now.amountRates.map((row) => ({
      ...row,
      previous: before.amountRates.find((b) => b.currency === row.currency)?.rate ?? "none",
    })),
    `${label}: recovery rate by amount`,
  );
  const currencies = [...new Set([...now.revenue, ...before.revenue].map((row) => row.currency))].sort();
  assert.deepEqual(
    shown.revenue,
    currencies.map((currency) => {
      const row = now.revenue.find((r) => r.currency === currency);
      return {
        currency,
        amount: row?.amount ?? "0",
        cases: row?.cases ?? 0,
        previous: before.revenue.find((r) => r.currency === currency)?.amount ?? "0",
      };
    }),
    `${label}: recovered revenue`,
  );
  const withRate = (groups: { key: string; settled: number; recovered: number }[]) =>
    groups.map((g) => ({ ...g, rate: rate4(g.recovered, g.settled) }))
      .sort((a, b) => b.settled - a.settled || a.key.localeCompare(b.key));
  assert.deepEqual(shown.byReason, withRate(now.byReason), `${label}: by reason`);
  assert.deepEqual(shown.byMessage, withRate(now.byMessage), `${label}: by failure message`);
  assert.deepEqual(shown.byChannel, now.byChannel, `${label}: by channel`);
  assert.deepEqual(shown.funnel, now.funnel, `${label}: funnel by actual day`);
  assert.deepEqual(shown.dailyRevenue, now.dailyRevenue, `${label}: recovered revenue per day`);
}

Deno.test("overview figures: amount rate, previous period, breakdowns and the funnel by actual day match SQL over the seeded rows", async () => {
  await withCaseHarness(async ({ sql, fetch, company }) => {
    const biz = await company("ovf");
    await seed(sql, biz);
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, fetch);
    try {
      const get = async (query: string) => {
        const response = await globalThis.fetch(
          `http://127.0.0.1:${server.addr.port}/dashboard/${biz.companyId}${query}`,
          { headers: { "x-whop-user-token": biz.token, accept: "text/html" } },
        );
        const html = await response.text();
        assert.equal(response.status, 200, html.slice(0, 300));
        return html;
      };
      const figures = {
        30: [await expected(sql, biz.companyId, 29, 0), await expected(sql, biz.companyId, 59, 30)],
        90: [await expected(sql, biz.companyId, 89, 0), await expected(sql, biz.companyId, 179, 90)],
      } as const;

      // The seed is not degenerate: the SQL sees what the scenario is about.
      const [now30, before30] = figures[30];
      assert.equal(now30.rate, (4 / 6).toFixed(4), "A C D F recovered of A B C D E F");
      assert.equal(before30.rate, (2 / 4).toFixed(4), "P1 P4 of P1-P4");
      assert.deepEqual(now30.amountRates.map((r) => r.currency), ["eur", "usd"]);
      assert.deepEqual(now30.byMessage.map((r) => r.key), ["", M1, M2]);
      const days = (f: Expected, step: number) =>
        f.funnel.filter((r) => r.step === step).map((r) => r.offset);
      assert.deepEqual(days(figures[90][0], 1), [2, 3], "step 2 had day 2 before the change, day 3 after");
      assert.ok(now30.byChannel.length === 2 && now30.funnel.some((r) => r.clicked > 0));

      for (const pass of ["live", "rolled up"]) {
        for (const range of [30, 90] as const) {
          const html = await get(range === 90 ? "?range=90" : "");
          assertMatches(html, figures[range][0], figures[range][1], `${pass}, ${range} days`);
          if (range === 90) {
            assert.match(html, /Nudge 2 · day 2/);
            assert.match(html, /Nudge 2 · day 3/);
          }
        }
        if (pass === "live") await sql`select private.refresh_daily_stats(${biz.companyId})`;
      }

      // A figure in words: the count rate's change against the previous 30 days.
      const html = await get("");
      assert.match(
        tile(html, "recovery_rate"),
        /\+16\.7 pts <span class="muted">vs previous 30 days<\/span>/,
      );
      assert.match(table(html, "failure_message"), /No message recorded/);
    } finally {
      await server.shutdown();
    }
  });
});

Deno.test("overview figures: rollups written before the breakdowns get them from the migration's backfill, or say they are not recorded", async () => {
  const migration = await Deno.readTextFile(
    new URL("../../supabase/migrations/20261208010000_overview_breakdowns.sql", import.meta.url),
  );
  const backfill = migration.slice(migration.lastIndexOf("update public.daily_company_stats d"));
  assert.match(backfill, /^update public\.daily_company_stats d\s+set settled_money = f\.settled_money/);
  await withCaseHarness(async ({ sql, company }) => {
    const biz = await company("ovb");
    await seed(sql, biz);
    await sql`select private.refresh_daily_stats(${biz.companyId})`;
    const get = async (query: string) => {
      const response = await biz.request(`/dashboard/${biz.companyId}${query}`);
      assert.equal(response.status, 200);
      return await response.text();
    };
    const rolled = { 30: page(await get("")), 90: page(await get("?range=90")) };
    const forget = () =>
      sql`update public.daily_company_stats
          set settled_money = null, by_reason = null, by_failure_message = null, nudge_funnel = null, by_channel = null
          where company_id = ${biz.companyId}`;

    // Rows as the earlier migration wrote them; the backfill computes the same figures from live rows.
    await forget();
    await sql.unsafe(backfill);
    assert.deepEqual(page(await get("")), rolled[30]);
    assert.deepEqual(page(await get("?range=90")), rolled[90]);

    // Closed cases already purged before the backfill: their days keep what the old rollups had
    // (counts, revenue, the funnel by step) and the page says the day of those nudges is not recorded.
    await forget();
    await sql`delete from public.recovery_cases where company_id = ${biz.companyId} and status <> 'open'`;
    await sql.unsafe(backfill);
    const html = await get("?range=90");
    const recovered = tile(html, "recovered_cases").slice(0, 300);
    assert.equal(
      attr(recovered, "data-value"),
      rolled[90].recovered.value,
      "recoveries of purged cases still count",
    );
    assert.match(html, /<tr data-step="0">/, "old funnel rows carry no day");
    assert.doesNotMatch(html, /data-breakdown="reason"/, "no reasons are made up for purged cases");
    assert.match(html, /Nudge 1 · day not recorded/);
    assert.match(html, /data-testid="breakdowns-partial"/);
  });
});
