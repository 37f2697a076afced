// The Overview page body: range toggle, key figures with their change against the previous period,
// recovered revenue and cases per day, the nudge funnel, and what recovers (by reason, channel and
// failure message). Text stays short; how each number is counted is on hover and in one <details>.
import type { Overview, OverviewRange } from "../../queries/overview.ts";
import { OVERVIEW_RANGES } from "../../queries/overview.ts";
import { EmptyState, PageHeader } from "../ui.tsx";
import { Breakdowns } from "./Breakdowns.tsx";
import { CasesChart } from "./CasesChart.tsx";
import { formatCount, formatDayShort } from "./format.ts";
import { KpiTiles } from "./KpiTiles.tsx";
import { NudgeFunnel } from "./NudgeFunnel.tsx";
import { RevenueChart, revenueCurrencies } from "./RevenueChart.tsx";

function RangeToggle({ base, current }: { base: string; current: OverviewRange }) {
  return (
    <nav class="ov-range" aria-label="Date range">
      {OVERVIEW_RANGES.map((days) => (
        <a
          key={days}
          href={`${base}?range=${days}`}
          class={days === current ? "ov-range-option active" : "ov-range-option"}
          aria-current={days === current ? "page" : undefined}
          data-range={days}
        >
          Last {days} days
        </a>
      ))}
    </nav>
  );
}

export function OverviewEmpty({ base }: { base: string }) {
  return (
    <>
      <PageHeader title="Overview" subtitle="How Churn Saver is recovering your members." />
      <EmptyState title="No recovery cases yet">
        Cases open when a payment fails or a member schedules a cancellation. Meanwhile, review your nudges in
        {" "}
        <a href={`${base}/settings`}>Settings</a>.
      </EmptyState>
    </>
  );
}

export function OverviewPage({ data, base }: { data: Overview; base: string }) {
  const range = `the last ${data.rangeDays} days`;
  const quiet = data.daily.every((day) => day.opened === 0 && day.recovered === 0);
  return (
    <div class="ov" data-range-days={data.rangeDays}>
      <PageHeader
        title="Overview"
        subtitle={`${formatDayShort(data.firstDay)} – ${formatDayShort(data.lastDay)} · ${data.timeZone}`}
        actions={<RangeToggle base={base} current={data.rangeDays} />}
      />
      <KpiTiles data={data} />

      <section class="card ov-section" aria-labelledby="ov-revenue-heading">
        <h2 id="ov-revenue-heading">Recovered revenue</h2>
        {revenueCurrencies(data.daily).length === 0
          ? <p class="ov-quiet" data-testid="revenue-empty">No revenue recovered in {range}.</p>
          : (
            <>
              <ul class="ov-legend">
                <li>
                  <span class="ov-swatch ov-recovered" aria-hidden="true" />Per day
                </li>
                <li>
                  <span class="ov-swatch ov-running" aria-hidden="true" />Running total
                </li>
              </ul>
              <RevenueChart daily={data.daily} timeZone={data.timeZone} />
            </>
          )}
      </section>

      <section class="card ov-section" aria-labelledby="ov-chart-heading">
        <h2 id="ov-chart-heading">Cases opened vs recovered per day</h2>
        <p class="muted ov-lead">
          {formatCount(data.openedInRange)} opened, {formatCount(data.closed.recovered)} recovered in {range}.
        </p>
        {quiet
          ? (
            <p class="ov-quiet" data-testid="chart-empty">
              No cases were opened or recovered in {range}.{" "}
              {data.rangeDays === 30 && <a href={`${base}?range=90`}>See the last 90 days</a>}
            </p>
          )
          : <CasesChart daily={data.daily} timeZone={data.timeZone} />}
      </section>

      <section class="card ov-section" aria-labelledby="ov-funnel-heading">
        <h2 id="ov-funnel-heading">Nudge funnel</h2>
        <NudgeFunnel funnel={data.funnel} rangeDays={data.rangeDays} />
      </section>

      <Breakdowns data={data} />

      <details class="ov-section ov-definitions">
        <summary>How these numbers are counted</summary>
        <dl>
          <dt>Right now</dt>
          <dd>Open cases and revenue at risk: every case open at this moment.</dd>
          <dt>In the range</dt>
          <dd>
            Outcomes, rates, recovered revenue and the breakdowns count cases closed in{" "}
            {range}, whenever they opened. Changes compare with the {data.rangeDays} days before.
          </dd>
          <dt>Recovery rate</dt>
          <dd>
            Cases: recovered ÷ (recovered + lost + expired); dismissed cases are left out. Amount: money
            recovered ÷ money at risk of the same cases, per currency.
          </dd>
          <dt>Funnel</dt>
          <dd>
            Scheduled push and DM nudges by step and the day after opening they were due. A case counts once
            per row; clicks from bots and link previews do not count.
          </dd>
          <dt>Clicks</dt>
          <dd>
            "Clicked a link" counts recovered cases that clicked any recovery link, at any time; the funnel
            counts first clicks on each nudge's links made in the range, so the two can differ.
          </dd>
          <dt>Currencies</dt>
          <dd>Never converted or added across currencies.</dd>
        </dl>
      </details>
    </div>
  );
}
