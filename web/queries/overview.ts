// The Overview page's numbers. "Right now" figures (open cases, revenue at risk) read the open cases.
// Range figures are dated by when things happened: cases by opening and closing (so recovery rates,
// recovered revenue, attribution and the reason and failure-message breakdowns describe cases *closed*
// in the range), nudges by sending, clicks by a case's first human click on a nudge's link. Days are
// calendar days in the company's time zone, today included. Every range figure is also computed for
// the previous period of the same length, for the change shown next to it.
//
// Cost: finished days come from the daily rollups (`daily_company_stats`, at most 180 rows); only the
// days after the last rollup (today, and yesterday until the hourly refresh) are computed live, by
// the same SQL function that writes the rollups (20261208010000_overview_breakdowns.sql). A company
// never rolled up yet is computed live over both periods.
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

/** Recovery by amount in one currency: recovered ÷ at risk, over settled cases that had an amount. */
export interface AmountRate {
  currency: string;
  atRiskMinor: string;
  recoveredMinor: string;
  cases: number;
  rate: number | null;
}

export interface DailyCases {
  /** YYYY-MM-DD in the company's time zone. */
  day: string;
  opened: number;
  recovered: number;
  /** Recovered money that day, minor units per currency. */
  revenue: Record<string, string>;
}

export interface FunnelStep {
  /** job_queue.step: index into the nudge schedule (0 = first nudge). */
  step: number;
  /** The day after the case opened this step's nudges were scheduled for; null on rollups written
   * before that was recorded. */
  offsetDays: number | null;
  jobsSent: number;
  casesClicked: number;
  casesRecovered: number;
}

/** Settled cases (recovered + lost + expired) of one group, and how many of them were recovered. */
export interface OutcomeGroup {
  key: string;
  settled: number;
  recovered: number;
  rate: number | null;
}

export interface ChannelFigures {
  channel: string;
  sent: number;
  clicked: number;
  recovered: number;
}

export const ATTRIBUTIONS = ["click_through", "nudged", "organic"] as const;
export type Attribution = (typeof ATTRIBUTIONS)[number];

/** Everything that describes one period of days (the range, or the one before it). */
export interface PeriodFigures {
  firstDay: string;
  lastDay: string;
  closed: { recovered: number; lost: number; expired: number; dismissed: number };
  /** recovered ÷ (recovered + lost + expired) of cases closed in the range; null when none closed. */
  recoveryRate: number | null;
  /** Per currency, never converted. */
  amountRates: AmountRate[];
  recoveredRevenue: CurrencyAmount[];
  attribution: Record<Attribution, number>;
  openedInRange: number;
  funnel: FunnelStep[];
  byReason: OutcomeGroup[];
  /** Payment cases by Whop's failure message; key "" = none recorded. */
  byFailureMessage: OutcomeGroup[];
  byChannel: ChannelFigures[];
  /** Rolled-up days written before the breakdowns existed (their breakdowns are unknown). */
  daysWithoutBreakdowns: number;
}

export interface Overview extends PeriodFigures {
  rangeDays: OverviewRange;
  timeZone: string;
  /** Whether the company has ever had a case (else the page shows its empty state). */
  hasCases: boolean;
  openCases: number;
  atRisk: CurrencyAmount[];
  daily: DailyCases[];
  /** The same figures for the `rangeDays` days before `firstDay`. */
  previous: PeriodFigures;
}

interface Bounds {
  time_zone: string;
  previous_first_day: string;
  previous_last_day: string;
  first_day: string;
  last_day: string;
  /** The last day (YYYY-MM-DD) read from the rollups; null when none is. */
  rolled_through: string | null;
  /** Where the live part starts: midnight after `rolled_through`, or of the previous period's first day. */
  live_start: Date;
}

type Figures = { sent: number; clicked: number; recovered: number };
type Outcomes = { settled: number; recovered: number };

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
  funnel: Record<string, Figures>;
  // Null on rollups written before 20261208010000_overview_breakdowns.sql that it could not fill.
  settled_money: Record<string, { cases: number; at_risk: string; recovered: string }> | null;
  by_reason: Record<string, Outcomes> | null;
  by_failure_message: Record<string, Outcomes> | null;
  /** Keyed "<step>:<day offset>". */
  nudge_funnel: Record<string, Figures> | null;
  by_channel: Record<string, Figures> | null;
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
    const current = days.filter((row) => row.day >= bounds.first_day);
    return {
      rangeDays,
      timeZone: bounds.time_zone,
      hasCases: hasCases[0].has_cases,
      openCases: open.reduce((total, row) => total + row.cases, 0),
      atRisk: open
        .filter((row) => row.currency !== null && row.amount_minor !== null)
        .map((row) => ({ currency: row.currency!, amountMinor: row.amount_minor!, cases: row.cases }))
        .sort((a, b) => a.currency.localeCompare(b.currency)),
      ...summarise(current, bounds.first_day, bounds.last_day),
      daily: dailyFigures(current, bounds.first_day, bounds.last_day),
      previous: summarise(
        days.filter((row) => row.day < bounds.first_day),
        bounds.previous_first_day,
        bounds.previous_last_day,
      ),
    };
  });
}

/** The company's zone, both periods' days, and how far the rollups reach into them. */
async function loadBounds(tx: TenantSql, companyId: string, rangeDays: OverviewRange): Promise<Bounds> {
  const [bounds] = await tx<Bounds[]>`
    with s as (
      select coalesce(max(time_zone), 'UTC') as tz,
             (select through from public.daily_stats_watermarks where company_id = ${companyId}) as through
      from public.company_settings
      where company_id = ${companyId}
    ), d as (
      select tz, today, today - (${rangeDays}::int - 1) as first_day,
             today - (2 * ${rangeDays}::int - 1) as previous_first_day,
             -- Rollups end yesterday; a later watermark (the zone was changed since) is not trusted.
             case when through >= today - (2 * ${rangeDays}::int - 1) then least(through, today - 1) end as rolled
      from (select tz, through, (now() at time zone tz)::date as today from s) t
    )
    select tz as time_zone,
           to_char(previous_first_day, 'YYYY-MM-DD') as previous_first_day,
           to_char(first_day - 1, 'YYYY-MM-DD') as previous_last_day,
           to_char(first_day, 'YYYY-MM-DD') as first_day,
           to_char(today, 'YYYY-MM-DD') as last_day,
           to_char(rolled, 'YYYY-MM-DD') as rolled_through,
           (coalesce(rolled + 1, previous_first_day)::timestamp at time zone tz) as live_start
    from d`;
  return bounds;
}

/** Both periods' days: rollup rows for finished days, then the rest computed live. */
function loadDays(tx: TenantSql, companyId: string, bounds: Bounds) {
  const columns = tx`cases_opened, cases_recovered, cases_lost, cases_expired, cases_dismissed,
    recovered_click_through, recovered_nudged, recovered_organic, recovered_revenue, funnel, settled_money,
    by_reason, by_failure_message, nudge_funnel, by_channel`;
  return tx<DayFigures[]>`
    select to_char(day, 'YYYY-MM-DD') as day, ${columns}
    from public.daily_company_stats
    where company_id = ${companyId} and ${bounds.rolled_through}::date is not null
      and day between ${bounds.previous_first_day}::date and ${bounds.rolled_through}::date
    union all
    select to_char(day, 'YYYY-MM-DD'), ${columns}
    from public.compute_daily_company_stats(${companyId}, ${bounds.live_start}, 'infinity')`;
}

/** Adds `figures` into the entry of `key`, creating it from `zero()` first. */
function addInto<T extends Record<string, number>>(
  map: Map<string, T>,
  key: string,
  figures: T,
  zero: () => T,
) {
  const total = map.get(key) ?? zero();
  for (const name of Object.keys(total) as (keyof T)[]) {
    (total[name] as number) += (figures[name] as number | undefined) ?? 0;
  }
  map.set(key, total);
}

const zeroFigures = (): Figures => ({ sent: 0, clicked: 0, recovered: 0 });
const zeroOutcomes = (): Outcomes => ({ settled: 0, recovered: 0 });
const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

function outcomeGroups(map: Map<string, Outcomes>): OutcomeGroup[] {
  return [...map.entries()]
    .map(([key, { settled, recovered }]) => ({ key, settled, recovered, rate: ratio(recovered, settled) }))
    .sort((a, b) => b.settled - a.settled || a.key.localeCompare(b.key));
}

function summarise(rows: DayFigures[], firstDay: string, lastDay: string): PeriodFigures {
  const closed = { recovered: 0, lost: 0, expired: 0, dismissed: 0 };
  const attribution: Record<Attribution, number> = { click_through: 0, nudged: 0, organic: 0 };
  const revenue = new Map<string, { amount: bigint; cases: number }>();
  const money = new Map<string, { atRisk: bigint; recovered: bigint; cases: number }>();
  const steps = new Map<string, Figures>();
  const channels = new Map<string, Figures>();
  const reasons = new Map<string, Outcomes>();
  const messages = new Map<string, Outcomes>();
  let opened = 0;
  let daysWithoutBreakdowns = 0;
  for (const row of rows) {
    opened += row.cases_opened;
    closed.recovered += row.cases_recovered;
    closed.lost += row.cases_lost;
    closed.expired += row.cases_expired;
    closed.dismissed += row.cases_dismissed;
    attribution.click_through += row.recovered_click_through;
    attribution.nudged += row.recovered_nudged;
    attribution.organic += row.recovered_organic;
    for (const [currency, item] of Object.entries(row.recovered_revenue)) {
      const total = revenue.get(currency) ?? { amount: 0n, cases: 0 };
      total.amount += BigInt(item.minor);
      total.cases += item.cases;
      revenue.set(currency, total);
    }
    if (row.nudge_funnel === null) {
      // An old rollup: the step is known, the day it had is not.
      daysWithoutBreakdowns++;
      for (const [step, figures] of Object.entries(row.funnel)) {
        addInto(steps, `${step}:`, figures, zeroFigures);
      }
      continue;
    }
    for (const [key, figures] of Object.entries(row.nudge_funnel)) addInto(steps, key, figures, zeroFigures);
    for (const [key, figures] of Object.entries(row.by_channel ?? {})) {
      addInto(channels, key, figures, zeroFigures);
    }
    for (const [key, figures] of Object.entries(row.by_reason ?? {})) {
      addInto(reasons, key, figures, zeroOutcomes);
    }
    for (const [key, figures] of Object.entries(row.by_failure_message ?? {})) {
      addInto(messages, key, figures, zeroOutcomes);
    }
    for (const [currency, item] of Object.entries(row.settled_money ?? {})) {
      const total = money.get(currency) ?? { atRisk: 0n, recovered: 0n, cases: 0 };
      total.atRisk += BigInt(item.at_risk);
      total.recovered += BigInt(item.recovered);
      total.cases += item.cases;
      money.set(currency, total);
    }
  }
  const settled = closed.recovered + closed.lost + closed.expired;
  return {
    firstDay,
    lastDay,
    closed,
    recoveryRate: ratio(closed.recovered, settled),
    amountRates: [...money.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([currency, { atRisk, recovered, cases }]) => ({
        currency,
        atRiskMinor: atRisk.toString(),
        recoveredMinor: recovered.toString(),
        cases,
        // Exact enough for a percentage; both sums are far below 2^53 per currency in practice.
        rate: atRisk === 0n ? null : Number(recovered) / Number(atRisk),
      })),
    recoveredRevenue: [...revenue.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([currency, { amount, cases }]) => ({ currency, amountMinor: amount.toString(), cases })),
    attribution,
    openedInRange: opened,
    funnel: [...steps.entries()]
      .map(([key, figures]) => {
        const [step, offset] = key.split(":");
        return {
          step: Number(step),
          offsetDays: offset === "" || offset === undefined ? null : Number(offset),
          jobsSent: figures.sent,
          casesClicked: figures.clicked,
          casesRecovered: figures.recovered,
        };
      })
      .sort((a, b) => a.step - b.step || (a.offsetDays ?? -1) - (b.offsetDays ?? -1)),
    byReason: outcomeGroups(reasons),
    byFailureMessage: outcomeGroups(messages),
    byChannel: [...channels.entries()]
      .map(([channel, figures]) => ({ channel, ...figures }))
      .sort((a, b) => a.channel.localeCompare(b.channel)),
    daysWithoutBreakdowns,
  };
}

/** Every day of the range, zero-filled. */
function dailyFigures(rows: DayFigures[], firstDay: string, lastDay: string): DailyCases[] {
  const daily = new Map(
    localDays(firstDay, lastDay).map((day) => [day, { day, opened: 0, recovered: 0, revenue: {} }]),
  );
  for (const row of rows) {
    const day: DailyCases | undefined = daily.get(row.day);
    if (!day) continue;
    day.opened += row.cases_opened;
    day.recovered += row.cases_recovered;
    for (const [currency, item] of Object.entries(row.recovered_revenue)) {
      day.revenue[currency] = (BigInt(day.revenue[currency] ?? "0") + BigInt(item.minor)).toString();
    }
  }
  return [...daily.values()];
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
