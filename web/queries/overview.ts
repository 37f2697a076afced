// The Overview page's numbers. "Right now" figures (open cases, revenue at risk) read the open cases.
// Range figures are dated by when things happened: cases by opening and closing (so recovery rate,
// recovered revenue and attribution describe cases *closed* in the range), nudges by sending, clicks
// by a case's first human click on a step's link. Days are calendar days in the company's time zone,
// today included.
//
// Cost: finished days come from the daily rollups (`daily_company_stats`, at most 90 rows); only the
// days after the last rollup (today, and yesterday until the hourly refresh) are computed live, by
// the same SQL function that writes the rollups (20261126030200_daily_company_stats.sql). A company
// never rolled up yet is computed live over the whole range.
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
  /** The last day (YYYY-MM-DD) read from the rollups; null when none is. */
  rolled_through: string | null;
  /** Where the live part starts: midnight after `rolled_through`, or of the range's first day. */
  live_start: Date;
}

/** One day's figures, from a rollup row or computed live (same columns). */
interface DayFigures {
  day: string;
  cases_opened: number;
  cases_recovered: number;
  cases_lost: number;
  cases_expired: number;
  cases_dismissed: number;
  recovered_click_through: number;
  recovered_nudged: number;
  recovered_organic: number;
  recovered_revenue: Record<string, { cases: number; minor: string }>;
  funnel: Record<string, { sent: number; clicked: number; recovered: number }>;
}

export async function loadOverview(sql: Sql, viewer: Viewer, rangeDays: OverviewRange): Promise<Overview> {
  const companyId = viewer.companyId;
  return await withTenant(sql, viewer, async (tx) => {
    const bounds = await loadBounds(tx, companyId, rangeDays);
    // One transaction's queries share its connection; issued together they are pipelined.
    const [hasCases, open, days] = await Promise.all([
      tx<{ has_cases: boolean }[]>`
        select exists (select 1 from public.recovery_cases where company_id = ${companyId}) as has_cases`,
      tx<{ currency: string | null; cases: number; amount_minor: string | null }[]>`
        select currency, count(*)::int as cases, sum(amount_at_risk_minor)::text as amount_minor
        from public.recovery_cases
        where company_id = ${companyId} and status = 'open'
        group by currency`,
      loadDays(tx, companyId, bounds),
    ]);
    return {
      rangeDays,
      timeZone: bounds.time_zone,
      firstDay: bounds.first_day,
      lastDay: bounds.last_day,
      hasCases: hasCases[0].has_cases,
      openCases: open.reduce((total, row) => total + row.cases, 0),
      atRisk: open
        .filter((row) => row.currency !== null && row.amount_minor !== null)
        .map((row) => ({ currency: row.currency!, amountMinor: row.amount_minor!, cases: row.cases }))
        .sort((a, b) => a.currency.localeCompare(b.currency)),
      ...summarise(days, bounds),
    };
  });
}

/** The company's zone and schedule, the range's days, and how far the rollups reach into it. */
async function loadBounds(tx: TenantSql, companyId: string, rangeDays: OverviewRange): Promise<Bounds> {
  const [bounds] = await tx<Bounds[]>`
    with s as (
      select coalesce(max(time_zone), 'UTC') as tz, coalesce(max(nudge_offsets_days), '{0,2,4}') as offsets,
             (select through from public.daily_stats_watermarks where company_id = ${companyId}) as through
      from public.company_settings
      where company_id = ${companyId}
    ), d as (
      select tz, offsets, today, today - (${rangeDays}::int - 1) as first_day,
             -- Rollups end yesterday; a later watermark (the zone was changed since) is not trusted.
             case when through >= today - (${rangeDays}::int - 1) then least(through, today - 1) end as rolled
      from (select tz, offsets, through, (now() at time zone tz)::date as today from s) t
    )
    select tz as time_zone, offsets::int[] as offsets,
           to_char(first_day, 'YYYY-MM-DD') as first_day,
           to_char(today, 'YYYY-MM-DD') as last_day,
           to_char(rolled, 'YYYY-MM-DD') as rolled_through,
           (coalesce(rolled + 1, first_day)::timestamp at time zone tz) as live_start
    from d`;
  return bounds;
}

/** The range's days: rollup rows for finished days, then the rest computed live. */
function loadDays(tx: TenantSql, companyId: string, bounds: Bounds) {
  return tx<DayFigures[]>`
    select to_char(day, 'YYYY-MM-DD') as day, cases_opened, cases_recovered, cases_lost, cases_expired,
           cases_dismissed, recovered_click_through, recovered_nudged, recovered_organic, recovered_revenue, funnel
    from public.daily_company_stats
    where company_id = ${companyId} and ${bounds.rolled_through}::date is not null
      and day between ${bounds.first_day}::date and ${bounds.rolled_through}::date
    union all
    select to_char(day, 'YYYY-MM-DD'), cases_opened, cases_recovered, cases_lost, cases_expired,
           cases_dismissed, recovered_click_through, recovered_nudged, recovered_organic, recovered_revenue, funnel
    from public.compute_daily_company_stats(${companyId}, ${bounds.live_start}, 'infinity')`;
}

type RangeFigures = Pick<
  Overview,
  "closed" | "recoveryRate" | "recoveredRevenue" | "attribution" | "openedInRange" | "daily" | "funnel"
>;

function summarise(rows: DayFigures[], bounds: Bounds): RangeFigures {
  const closed = { recovered: 0, lost: 0, expired: 0, dismissed: 0 };
  const attribution: Record<Attribution, number> = { click_through: 0, nudged: 0, organic: 0 };
  const revenue = new Map<string, { amount: bigint; cases: number }>();
  const steps = new Map<number, { sent: number; clicked: number; recovered: number }>();
  const daily = new Map(
    localDays(bounds.first_day, bounds.last_day).map((day) => [day, { day, opened: 0, recovered: 0 }]),
  );
  for (const row of rows) {
    const day = daily.get(row.day);
    if (day) {
      day.opened += row.cases_opened;
      day.recovered += row.cases_recovered;
    }
    closed.recovered += row.cases_recovered;
    closed.lost += row.cases_lost;
    closed.expired += row.cases_expired;
    closed.dismissed += row.cases_dismissed;
    attribution.click_through += row.recovered_click_through;
    attribution.nudged += row.recovered_nudged;
    attribution.organic += row.recovered_organic;
    for (const [currency, money] of Object.entries(row.recovered_revenue)) {
      const total = revenue.get(currency) ?? { amount: 0n, cases: 0 };
      total.amount += BigInt(money.minor);
      total.cases += money.cases;
      revenue.set(currency, total);
    }
    for (const [step, figures] of Object.entries(row.funnel)) {
      const total = steps.get(Number(step)) ?? { sent: 0, clicked: 0, recovered: 0 };
      total.sent += figures.sent;
      total.clicked += figures.clicked;
      total.recovered += figures.recovered;
      steps.set(Number(step), total);
    }
  }
  const settled = closed.recovered + closed.lost + closed.expired;
  const days = [...daily.values()];
  return {
    closed,
    recoveryRate: settled === 0 ? null : closed.recovered / settled,
    recoveredRevenue: [...revenue.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([currency, { amount, cases }]) => ({ currency, amountMinor: amount.toString(), cases })),
    attribution,
    openedInRange: days.reduce((total, day) => total + day.opened, 0),
    daily: days,
    funnel: [...steps.entries()]
      .sort(([a], [b]) => a - b)
      .map(([step, figures]) => ({
        step,
        offsetDays: bounds.offsets[step] ?? null,
        jobsSent: figures.sent,
        casesClicked: figures.clicked,
        casesRecovered: figures.recovered,
      })),
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
