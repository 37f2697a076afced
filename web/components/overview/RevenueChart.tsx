// Recovered revenue per day, one server-rendered SVG per currency (amounts are never converted or
// added across currencies), with the same wide/narrow drawings and hover titles as CasesChart: a bar
// per day, and a line of the running total so the trend reads at a glance.
import type { DailyCases } from "../../queries/overview.ts";
import { formatMoney } from "../ui.tsx";
import { dateLabelled, type LayoutName, LAYOUTS, niceMax } from "./CasesChart.tsx";
import { formatDayLong, formatDayShort } from "./format.ts";

/** The currencies with recovered money in the range, in alphabetical order. */
export function revenueCurrencies(daily: DailyCases[]): string[] {
  return [...new Set(daily.flatMap((day) => Object.keys(day.revenue)))].sort();
}

export function RevenueChart({ daily, timeZone }: { daily: DailyCases[]; timeZone: string }) {
  const currencies = revenueCurrencies(daily);
  return (
    <>
      {currencies.map((currency) => (
        <figure key={currency} class="ov-chart ov-revenue-chart" data-currency={currency}>
          {currencies.length > 1 && <figcaption class="ov-chart-caption">{currency.toUpperCase()}
          </figcaption>}
          <RevenueSvg daily={daily} currency={currency} timeZone={timeZone} layout="wide" />
          <RevenueSvg daily={daily} currency={currency} timeZone={timeZone} layout="narrow" />
        </figure>
      ))}
    </>
  );
}

function RevenueSvg(
  { daily, currency, timeZone, layout }: {
    daily: DailyCases[];
    currency: string;
    timeZone: string;
    layout: LayoutName;
  },
) {
  const { width, height, margin } = LAYOUTS[layout];
  const left = margin.left + 16; // money labels are wider than counts
  const plotW = width - left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const amounts = daily.map((day) => Number(day.revenue[currency] ?? 0));
  let running = 0;
  const cumulative = amounts.map((amount) => (running += amount));
  const top = niceMax(Math.max(0, running));
  const slot = plotW / daily.length;
  const barW = Math.max(1, slot * 0.6);
  const y = (value: number) => margin.top + plotH - (value / top) * plotH;
  const ticks = [0, top / 4, top / 2, (3 * top) / 4, top];
  const labelled = dateLabelled(daily.length, plotW);
  const line = cumulative.map((value, index) =>
    `${(left + (index + 0.5) * slot).toFixed(1)},${y(value).toFixed(1)}`
  )
    .join(" ");
  const label =
    `Recovered revenue per day in ${currency.toUpperCase()}, last ${daily.length} days (${timeZone}): ${
      formatMoney(running, currency)
    } in all.`;
  return (
    <svg
      class={`ov-chart-${layout}`}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={label}
      data-testid={`revenue-chart-${layout}`}
    >
      {ticks.map((tick) => (
        <g key={tick} class="ov-grid">
          <line x1={left} x2={width - margin.right} y1={y(tick)} y2={y(tick)} />
          <text x={left - 6} y={y(tick) + 4} text-anchor="end">
            {formatMoney(Math.round(tick), currency)}
          </text>
        </g>
      ))}
      {daily.map((day, index) => {
        const x = left + index * slot;
        return (
          <g key={day.day} class="ov-day" data-day={day.day} data-revenue={amounts[index]}>
            <title>
              {`${formatDayLong(day.day)}: ${formatMoney(amounts[index], currency)} recovered, ${
                formatMoney(cumulative[index], currency)
              } so far`}
            </title>
            <rect class="ov-hit" x={x} y={margin.top} width={slot} height={plotH} />
            {amounts[index] > 0 && (
              <rect
                class="ov-bar ov-recovered"
                x={x + slot * 0.2}
                y={y(amounts[index])}
                width={barW}
                height={margin.top + plotH - y(amounts[index])}
              />
            )}
            {labelled(index) && (
              <text
                class="ov-x-label"
                x={Math.min(x + slot / 2, width - margin.right - 20)}
                y={margin.top + plotH + 18}
                text-anchor="middle"
              >
                {formatDayShort(day.day)}
              </text>
            )}
          </g>
        );
      })}
      <polyline class="ov-running" points={line} />
      <line
        class="ov-axis"
        x1={left}
        x2={width - margin.right}
        y1={margin.top + plotH}
        y2={margin.top + plotH}
      />
      <text class="ov-axis-title" x={left + plotW / 2} y={height - 4} text-anchor="middle">
        {`Day (${timeZone})`}
      </text>
    </svg>
  );
}
