// Cases opened vs recovered per day, as server-rendered SVG: complete without JavaScript. Each day
// is a group with a <title> (the browser's own tooltip on hover), the whole chart has a summary for
// screen readers, and the exact numbers are in a table below it.
import type { DailyCases } from "../../queries/overview.ts";
import { formatCount, formatDayLong, formatDayShort } from "./format.ts";

/** Two drawings of the same data: a wide one, and a narrow one for phones (swapped by CSS), so the
 * labels keep a readable size instead of shrinking with a single scaled-down drawing. */
export const LAYOUTS = {
  wide: { width: 880, height: 260, margin: { top: 14, right: 12, bottom: 42, left: 48 } },
  narrow: { width: 360, height: 230, margin: { top: 12, right: 8, bottom: 40, left: 36 } },
} as const;
export type LayoutName = keyof typeof LAYOUTS;
/** Room one date label needs along the x axis, in drawing units. */
const LABEL_ROOM = 64;

/** A round axis maximum at or above `max` (1, 2, 5 × 10^n), so gridlines fall on whole numbers. */
export function niceMax(max: number): number {
  if (max <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) {
    const candidate = step * magnitude;
    if (candidate >= max && Number.isInteger(candidate / 4)) return candidate;
  }
  return Math.ceil(max / 4) * 4;
}

/** Which day indexes get a date label: a whole number of weeks apart, as many as fit; the last day
 * (today) always. */
export function dateLabelled(days: number, plotW: number): (index: number) => boolean {
  const slot = plotW / days;
  const fits = Math.max(2, Math.floor(plotW / LABEL_ROOM));
  const labelEvery = Math.ceil(Math.ceil(days / fits) / 7) * 7;
  const lastIndex = days - 1;
  return (index) =>
    index === lastIndex || (index % labelEvery === 0 && (lastIndex - index) * slot >= LABEL_ROOM);
}

export function chartSummary(daily: DailyCases[], timeZone: string): string {
  const opened = daily.reduce((total, day) => total + day.opened, 0);
  const recovered = daily.reduce((total, day) => total + day.recovered, 0);
  const busiest = daily.reduce((best, day) => (day.opened > best.opened ? day : best), daily[0]);
  const parts = [
    `Cases opened and recovered per day, last ${daily.length} days (${timeZone}):`,
    `${formatCount(opened)} opened, ${formatCount(recovered)} recovered.`,
  ];
  if (busiest && busiest.opened > 0) {
    parts.push(`Most opened on ${formatDayLong(busiest.day)}: ${formatCount(busiest.opened)}.`);
  }
  return parts.join(" ");
}

export function CasesChart({ daily, timeZone }: { daily: DailyCases[]; timeZone: string }) {
  return (
    <figure class="ov-chart">
      <ul class="ov-legend">
        <li>
          <span class="ov-swatch ov-opened" aria-hidden="true" />Opened
        </li>
        <li>
          <span class="ov-swatch ov-recovered" aria-hidden="true" />Recovered
        </li>
      </ul>
      <ChartSvg daily={daily} timeZone={timeZone} layout="wide" />
      <ChartSvg daily={daily} timeZone={timeZone} layout="narrow" />
      <details class="ov-chart-table">
        <summary>Show the numbers per day</summary>
        <div class="table-wrap">
          <table class="data">
            <caption class="sr-only">Cases opened and recovered per day ({timeZone})</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Opened</th>
                <th scope="col">Recovered</th>
              </tr>
            </thead>
            <tbody>
              {[...daily].reverse().map((day) => (
                <tr key={day.day}>
                  <th scope="row">{formatDayLong(day.day)}</th>
                  <td>{formatCount(day.opened)}</td>
                  <td>{formatCount(day.recovered)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

function ChartSvg(
  { daily, timeZone, layout }: { daily: DailyCases[]; timeZone: string; layout: LayoutName },
) {
  const { width, height, margin } = LAYOUTS[layout];
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const top = niceMax(Math.max(0, ...daily.map((day) => Math.max(day.opened, day.recovered))));
  const slot = plotW / daily.length;
  const barW = Math.max(1, slot * 0.36);
  const y = (value: number) => margin.top + plotH - (value / top) * plotH;
  const ticks = [0, top / 4, top / 2, (3 * top) / 4, top];
  const labelled = dateLabelled(daily.length, plotW);

  return (
    <svg
      class={`ov-chart-${layout}`}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={chartSummary(daily, timeZone)}
      data-testid={`cases-chart-${layout}`}
    >
      {ticks.map((tick) => (
        <g key={tick} class="ov-grid">
          <line x1={margin.left} x2={width - margin.right} y1={y(tick)} y2={y(tick)} />
          <text x={margin.left - 6} y={y(tick) + 4} text-anchor="end">{formatCount(tick)}</text>
        </g>
      ))}
      <text
        class="ov-axis-title"
        transform={`translate(12 ${margin.top + plotH / 2}) rotate(-90)`}
        text-anchor="middle"
      >
        Cases
      </text>
      {daily.map((day, index) => {
        const x = margin.left + index * slot;
        return (
          <g
            key={day.day}
            class="ov-day"
            data-day={day.day}
            data-opened={day.opened}
            data-recovered={day.recovered}
          >
            <title>
              {`${formatDayLong(day.day)}: ${formatCount(day.opened)} opened, ${
                formatCount(day.recovered)
              } recovered`}
            </title>
            <rect class="ov-hit" x={x} y={margin.top} width={slot} height={plotH} />
            {day.opened > 0 && (
              <rect
                class="ov-bar ov-opened"
                x={x + slot * 0.12}
                y={y(day.opened)}
                width={barW}
                height={margin.top + plotH - y(day.opened)}
              />
            )}
            {day.recovered > 0 && (
              <rect
                class="ov-bar ov-recovered"
                x={x + slot * 0.12 + barW}
                y={y(day.recovered)}
                width={barW}
                height={margin.top + plotH - y(day.recovered)}
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
      <line
        class="ov-axis"
        x1={margin.left}
        x2={width - margin.right}
        y1={margin.top + plotH}
        y2={margin.top + plotH}
      />
      <text class="ov-axis-title" x={margin.left + plotW / 2} y={height - 4} text-anchor="middle">
        {`Day (${timeZone})`}
      </text>
    </svg>
  );
}
