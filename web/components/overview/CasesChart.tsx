// Cases opened vs recovered per day, as server-rendered SVG: complete without JavaScript. Each day
// is a group with a <title> (the browser's own tooltip on hover), the whole chart has a summary for
// screen readers, and the exact numbers are in a table below it.
import type { DailyCases } from "../../queries/overview.ts";
import { formatCount, formatDayLong, formatDayShort } from "./format.ts";

const WIDTH = 720;
const HEIGHT = 260;
const MARGIN = { top: 14, right: 12, bottom: 42, left: 48 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

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
  const top = niceMax(Math.max(0, ...daily.map((day) => Math.max(day.opened, day.recovered))));
  const slot = PLOT_W / daily.length;
  const barW = Math.max(1, slot * 0.36);
  const y = (value: number) => MARGIN.top + PLOT_H - (value / top) * PLOT_H;
  const ticks = [0, top / 4, top / 2, (3 * top) / 4, top];
  // About five date labels whatever the range: weekly for 30 days, every other week for 90.
  const labelEvery = daily.length > 45 ? 14 : 7;
  const lastIndex = daily.length - 1;

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
      <div class="ov-chart-scroll" tabIndex={0} role="group" aria-label="Cases per day">
        <svg
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          role="img"
          aria-label={chartSummary(daily, timeZone)}
          data-testid="cases-chart"
        >
          {ticks.map((tick) => (
            <g key={tick} class="ov-grid">
              <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={y(tick)} y2={y(tick)} />
              <text x={MARGIN.left - 8} y={y(tick) + 4} text-anchor="end">{formatCount(tick)}</text>
            </g>
          ))}
          <text
            class="ov-axis-title"
            transform={`translate(14 ${MARGIN.top + PLOT_H / 2}) rotate(-90)`}
            text-anchor="middle"
          >
            Cases
          </text>
          {daily.map((day, index) => {
            const x = MARGIN.left + index * slot;
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
                <rect class="ov-hit" x={x} y={MARGIN.top} width={slot} height={PLOT_H} />
                {day.opened > 0 && (
                  <rect
                    class="ov-bar ov-opened"
                    x={x + slot * 0.12}
                    y={y(day.opened)}
                    width={barW}
                    height={MARGIN.top + PLOT_H - y(day.opened)}
                  />
                )}
                {day.recovered > 0 && (
                  <rect
                    class="ov-bar ov-recovered"
                    x={x + slot * 0.12 + barW}
                    y={y(day.recovered)}
                    width={barW}
                    height={MARGIN.top + PLOT_H - y(day.recovered)}
                  />
                )}
                {(index === lastIndex || (index % labelEvery === 0 && (lastIndex - index) * slot >= 64)) && (
                  <text
                    class="ov-x-label"
                    x={x + slot / 2}
                    y={MARGIN.top + PLOT_H + 18}
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
            x1={MARGIN.left}
            x2={WIDTH - MARGIN.right}
            y1={MARGIN.top + PLOT_H}
            y2={MARGIN.top + PLOT_H}
          />
          <text class="ov-axis-title" x={MARGIN.left + PLOT_W / 2} y={HEIGHT - 4} text-anchor="middle">
            {`Day (${timeZone})`}
          </text>
        </svg>
      </div>
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
