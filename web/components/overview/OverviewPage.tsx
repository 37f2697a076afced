// The Overview page body: range toggle, key figures, the daily chart, the nudge funnel, and how
// each number is counted (so nobody has to guess what "recovery rate" means here).
import type { Overview, OverviewRange } from "../../queries/overview.ts";
import { OVERVIEW_RANGES } from "../../queries/overview.ts";
import { EmptyState, PageHeader } from "../ui.tsx";
import { CasesChart } from "./CasesChart.tsx";
import { formatCount, formatDayShort } from "./format.ts";
import { KpiTiles } from "./KpiTiles.tsx";
import { NudgeFunnel } from "./NudgeFunnel.tsx";

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
        When a member's payment fails or they schedule a cancellation, Churn Saver opens a recovery case and
        nudges them on the days of your schedule. Their numbers will appear here. Meanwhile, you can review
        your nudge schedule and messages in <a href={`${base}/settings`}>Settings</a>.
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
        subtitle={`${formatDayShort(data.firstDay)} – ${
          formatDayShort(data.lastDay)
        } (${data.rangeDays} days, today included) · days in ${data.timeZone}`}
        actions={<RangeToggle base={base} current={data.rangeDays} />}
      />
      <KpiTiles data={data} />

      <section class="card ov-section" aria-labelledby="ov-chart-heading">
        <h2 id="ov-chart-heading">Cases opened vs recovered per day</h2>
        <p class="muted ov-lead">
          {formatCount(data.openedInRange)} opened and {formatCount(data.closed.recovered)} recovered in{" "}
          {range}. A case counts on the day it opened, and on the day it was recovered.
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
        <h2 id="ov-funnel-heading">Nudge funnel by step</h2>
        <p class="muted ov-lead">
          By step of your schedule, what happened in{" "}
          {range}: scheduled nudges (push and DM) sent, cases that first clicked a link of that step, and
          cases recovered after that step had gone out. Each case counts once per step; clicks from bots and
          link previews are not counted. A case recovered after its third nudge also counts as recovered after
          the first two.
        </p>
        <NudgeFunnel funnel={data.funnel} rangeDays={data.rangeDays} />
      </section>

      <section class="ov-section ov-definitions" aria-labelledby="ov-definitions-heading">
        <h2 id="ov-definitions-heading">How these numbers are counted</h2>
        <dl>
          <dt>Right now</dt>
          <dd>Open cases and revenue at risk count every case that is open at this moment.</dd>
          <dt>In the range</dt>
          <dd>
            Recovered cases, recovery rate, recovered revenue and how recoveries happened count cases that
            closed in {range}, whenever they opened.
          </dd>
          <dt>Recovery rate</dt>
          <dd>Recovered ÷ (recovered + lost + expired). Cases you dismissed are not part of it.</dd>
          <dt>Currencies</dt>
          <dd>
            Amounts are shown in each case's own currency and are never converted or added across currencies.
          </dd>
          <dt>Attribution</dt>
          <dd>
            Click-through: the member clicked a recovery link before paying. Nudged: a nudge was delivered,
            without a click. Organic: neither.
          </dd>
        </dl>
      </section>
    </div>
  );
}
