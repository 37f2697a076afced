// The Overview page's numbers: a few bounded, index-backed queries (indexes in
// 20261126030000_dashboard_indexes.sql). "Right now" figures read the open cases; range figures read
// cases *closed* in the range (so recovery rate, recovered revenue and attribution describe the same
// cases) and nudges *sent* in the range. Days are calendar days in the company's time zone, today
// included.
//
// Cost: with 100,000 cases the range queries touch tens of thousands of rows each, so the nudge
// outcomes (the heaviest query) run in a second tenant transaction beside the rest (two pool
// connections) rather than after it; two snapshots a few milliseconds apart are fine for a dashboard.
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import type { Viewer } from "../lib/whop_auth.ts";
import { type TenantSql, withTenant } from "../lib/tenant.ts";

export const OVERVIEW_RANGES = [30, 90] as const;
export type OverviewRange = (typeof OVERVIEW_RANGES)[number];

/** `?range=90` → 90; anything else (missing, junk, other numbers) → 30. */
export function parseRange(value: string | undefined | null): OverviewRange {
  return value === "90" ? 90 : 30;
}

/** A sum of minor units in one currency; amounts stay strings (bigint sums) until formatted. */
export interface CurrencyAmount {
  currency: string;
  amountMinor: string;
  cases: number;
}

export interface DailyCases {
  /** YYYY-MM-DD in the company's time zone. */
  day: string;
  opened: number;
  recovered: number;
}

export interface FunnelStep {
  /** job_queue.step: index into the nudge schedule (0 = first nudge). */
  step: number;
  /** The schedule's offset for this step today, when the schedule still has it. */
  offsetDays: number | null;
  jobsSent: number;
  casesClicked: number;
  casesRecovered: number;
}

export const ATTRIBUTIONS = ["click_through", "nudged", "organic"] as const;
export type Attribution = (typeof ATTRIBUTIONS)[number];

export interface Overview {
  rangeDays: OverviewRange;
  timeZone: string;
  firstDay: string;
  lastDay: string;
  /** Whether the company has ever had a case (else the page shows its empty state). */
  hasCases: boolean;
  openCases: number;
  atRisk: CurrencyAmount[];
  closed: { recovered: number; lost: number; expired: number; dismissed: number };
  /** recovered ÷ (recovered + lost + expired) of cases closed in the range; null when none closed. */
  recoveryRate: number | null;
  recoveredRevenue: CurrencyAmount[];
  attribution: Record<Attribution, number>;
  openedInRange: number;
  daily: DailyCases[];
  funnel: FunnelStep[];
}

interface Bounds {
  time_zone: string;
  offsets: number[];
  first_day: string;
  last_day: string;
  range_start: Date;
}

export async function loadOverview(sql: Sql, viewer: Viewer, rangeDays: OverviewRange): Promise<Overview> {
  const companyId = viewer.companyId;
  const bounds = await withTenant(sql, viewer, (tx) => loadBounds(tx, companyId, rangeDays));
  const [[figures, sent], outcomes] = await Promise.all([
    withTenant(sql, viewer, async (tx) => {
      await tuneForAggregates(tx);
      return await Promise.all([loadFigures(tx, companyId, bounds), loadNudgesSent(tx, companyId, bounds)]);
    }),
    withTenant(sql, viewer, async (tx) => {
      await tuneForAggregates(tx);
      return await loadNudgeOutcomes(tx, companyId, bounds);
    }),
  ]);
  const outcomesByStep = new Map(outcomes.map((row) => [row.step, row]));
  return {
    rangeDays,
    timeZone: bounds.time_zone,
    firstDay: bounds.first_day,
    lastDay: bounds.last_day,
    ...figures,
    funnel: sent.map((row) => ({
      step: row.step,
      offsetDays: bounds.offsets[row.step] ?? null,
      jobsSent: row.jobs,
      casesClicked: outcomesByStep.get(row.step)?.clicked ?? 0,
      casesRecovered: outcomesByStep.get(row.step)?.recovered ?? 0,
    })),
  };
}

/** Settings for this transaction only, for aggregates over ~100,000 rows: room to hash in memory
 * instead of sorting on disk (the default 4 MB suits many small queries), and the planner's cost of
 * a random page read for SSD-backed, mostly cached data (1.1 rather than the spinning-disk default
 * of 4), without which it may scan all of job_queue where an index-only range scan takes a third
 * of the time (measured with `deno task bench dashboard`). */
async function tuneForAggregates(tx: TenantSql) {
  await tx`select set_config('work_mem', '32MB', true), set_config('random_page_cost', '1.1', true)`;
}

/** The company's zone and schedule, and where the range starts: midnight of its first day there. */
async function loadBounds(tx: TenantSql, companyId: string, rangeDays: OverviewRange): Promise<Bounds> {
  const [bounds] = await tx<Bounds[]>`
    with s as (
      select coalesce(max(time_zone), 'UTC') as tz, coalesce(max(nudge_offsets_days), '{0,2,4}') as offsets
      from public.company_settings
      where company_id = ${companyId}
    ), d as (
      select tz, offsets, (now() at time zone tz)::date as today from s
    )
    select tz as time_zone, offsets::int[] as offsets,
           to_char(today - (${rangeDays}::int - 1), 'YYYY-MM-DD') as first_day,
           to_char(today, 'YYYY-MM-DD') as last_day,
           ((today - (${rangeDays}::int - 1))::timestamp at time zone tz) as range_start
    from d`;
  return bounds;
}

type Figures = Omit<Overview, "rangeDays" | "timeZone" | "firstDay" | "lastDay" | "funnel">;

async function loadFigures(tx: TenantSql, companyId: string, bounds: Bounds): Promise<Figures> {
  const { time_zone: tz, range_start: start } = bounds;
  // One transaction's queries share its connection; issued together they are pipelined.
  const [hasCases, open, closed, opened] = await Promise.all([
    tx<{ has_cases: boolean }[]>`
      select exists (select 1 from public.recovery_cases where company_id = ${companyId}) as has_cases`,
    tx<{ currency: string | null; cases: number; amount_minor: string | null }[]>`
      select currency, count(*)::int as cases, sum(amount_at_risk_minor)::text as amount_minor
      from public.recovery_cases
      where company_id = ${companyId} and status = 'open'
      group by currency`,
    // Everything about cases closed in the range in one pass: outcome counts, attribution,
    // recovered money per currency, and recoveries per local day for the chart. (Grouping by the
    // date and formatting the few groups afterwards is much cheaper than formatting every row.)
    tx<
      {
        status: string;
        attribution: Attribution | null;
        currency: string | null;
        day: string;
        cases: number;
        recovered_minor: string | null;
      }[]
    >`
      select status, attribution, currency, to_char(day, 'YYYY-MM-DD') as day, cases, recovered_minor
      from (
        select status, attribution, currency, (closed_at at time zone ${tz})::date as day,
               count(*)::int as cases, sum(recovered_amount_minor)::text as recovered_minor
        from public.recovery_cases
        where company_id = ${companyId} and closed_at is not null and closed_at >= ${start}
        group by 1, 2, 3, 4
      ) g`,
    tx<{ day: string; cases: number }[]>`
      select to_char(day, 'YYYY-MM-DD') as day, cases
      from (
        select (opened_at at time zone ${tz})::date as day, count(*)::int as cases
        from public.recovery_cases
        where company_id = ${companyId} and opened_at >= ${start}
        group by 1
      ) g`,
  ]);

  const closedCounts = { recovered: 0, lost: 0, expired: 0, dismissed: 0 };
  const attribution: Record<Attribution, number> = { click_through: 0, nudged: 0, organic: 0 };
  const recoveredByCurrency = new Map<string, { amount: bigint; cases: number }>();
  const daily = new Map(
    localDays(bounds.first_day, bounds.last_day).map((day) => [day, { day, opened: 0, recovered: 0 }]),
  );
  for (const row of opened) {
    const entry = daily.get(row.day);
    if (entry) entry.opened += row.cases;
  }
  for (const row of closed) {
    if (row.status in closedCounts) closedCounts[row.status as keyof typeof closedCounts] += row.cases;
    if (row.status !== "recovered") continue;
    const entry = daily.get(row.day);
    if (entry) entry.recovered += row.cases;
    if (row.attribution) attribution[row.attribution] += row.cases;
    if (row.currency && row.recovered_minor !== null) {
      const money = recoveredByCurrency.get(row.currency) ?? { amount: 0n, cases: 0 };
      money.amount += BigInt(row.recovered_minor);
      money.cases += row.cases;
      recoveredByCurrency.set(row.currency, money);
    }
  }
  const settled = closedCounts.recovered + closedCounts.lost + closedCounts.expired;
  const days = [...daily.values()];

  return {
    hasCases: hasCases[0].has_cases,
    openCases: open.reduce((total, row) => total + row.cases, 0),
    atRisk: open
      .filter((row) => row.currency !== null && row.amount_minor !== null)
      .map((row) => ({ currency: row.currency!, amountMinor: row.amount_minor!, cases: row.cases }))
      .sort((a, b) => a.currency.localeCompare(b.currency)),
    closed: closedCounts,
    recoveryRate: settled === 0 ? null : closedCounts.recovered / settled,
    recoveredRevenue: [...recoveredByCurrency.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([currency, { amount, cases }]) => ({ currency, amountMinor: amount.toString(), cases })),
    attribution,
    openedInRange: days.reduce((total, day) => total + day.opened, 0),
    daily: days,
  };
}

/** Every calendar day from `first` to `last` (YYYY-MM-DD, both included). */
export function localDays(first: string, last: string): string[] {
  const days: string[] = [];
  const day = new Date(`${first}T00:00:00Z`);
  const end = new Date(`${last}T00:00:00Z`).getTime();
  while (day.getTime() <= end) {
    days.push(day.toISOString().slice(0, 10));
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return days;
}

// The funnel counts, per step of the schedule, the scheduled nudges (push and DM; not the free-days
// incentive, not manual nudges) sent in the range; of the cases they went to, those with a human
// (non-bot) click on a link of that step, and those recovered at or after that step went out.

function loadNudgesSent(tx: TenantSql, companyId: string, bounds: Bounds) {
  return tx<{ step: number; jobs: number }[]>`
    select step::int, count(*)::int as jobs
    from public.job_queue
    where company_id = ${companyId} and status = 'sent' and origin = 'schedule' and channel in ('push', 'dm')
      and sent_at >= ${bounds.range_start}
    group by step
    order by step`;
}

function loadNudgeOutcomes(tx: TenantSql, companyId: string, bounds: Bounds) {
  const start = bounds.range_start;
  // Only the sent nudges that met a click or a recovery reach the aggregate: first one row per case
  // and step, then the counts per step.
  return tx<{ step: number; clicked: number; recovered: number }[]>`
    with clicked as (
      select distinct job_id
      from public.link_clicks
      where company_id = ${companyId} and clicked_at >= ${start} and not is_bot and job_id is not null
    ), recovered as (
      select id, closed_at
      from public.recovery_cases
      where company_id = ${companyId} and closed_at is not null and closed_at >= ${start} and status = 'recovered'
    ), per_case as (
      select j.step, j.case_id,
             bool_or(k.job_id is not null) as clicked,
             bool_or(r.closed_at >= j.sent_at) as recovered_after
      from public.job_queue j
      left join clicked k on k.job_id = j.id
      left join recovered r on r.id = j.case_id
      where j.company_id = ${companyId} and j.status = 'sent' and j.origin = 'schedule' and j.channel in ('push', 'dm')
        and j.sent_at >= ${start}
        and (k.job_id is not null or r.closed_at >= j.sent_at)
      group by j.step, j.case_id
    )
    select step::int, (count(*) filter (where clicked))::int as clicked,
           (count(*) filter (where recovered_after))::int as recovered
    from per_case
    group by step`;
}
