// The funnel per nudge step and the day after opening it actually went out on (a step whose day
// changed with the schedule has a row per day): how many nudges went out, how many cases clicked a link
// of those nudges, and how many recovered after them. A table (readable by everyone, screen readers
// included); the bars compare the rows within each column (the longest is that column's largest number).
import type { FunnelStep } from "../../queries/overview.ts";
import { formatCount, share } from "./format.ts";

export function stepLabel(step: FunnelStep): string {
  const name = `Nudge ${step.step + 1}`;
  return step.offsetDays === null ? `${name} · day not recorded` : `${name} · day ${step.offsetDays}`;
}

export function BarCell({ kind, value, max }: { kind: string; value: number; max: number }) {
  return (
    <td data-value={value}>
      <span class="ov-share">
        <span class="ov-share-figure">{formatCount(value)}</span>
        <span class="ov-share-track" aria-hidden="true">
          <span class={`ov-share-bar ov-${kind}`} style={`width: ${share(value, max)}%`} />
        </span>
      </span>
    </td>
  );
}

export function NudgeFunnel({ funnel, rangeDays }: { funnel: FunnelStep[]; rangeDays: number }) {
  if (funnel.length === 0) {
    return <p class="muted" data-testid="funnel-empty">No nudges were sent in the last {rangeDays} days.</p>;
  }
  const max = (pick: (step: FunnelStep) => number) => Math.max(...funnel.map(pick));
  const maxSent = max((step) => step.jobsSent);
  const maxClicked = max((step) => step.casesClicked);
  const maxRecovered = max((step) => step.casesRecovered);
  return (
    // Focusable so keyboard users can scroll it sideways when it is wider than a phone.
    <div class="table-wrap ov-funnel-wrap" tabIndex={0} role="region" aria-label="Nudge funnel table">
      <table class="data ov-funnel" data-testid="funnel">
        <caption class="sr-only">Nudge funnel by step, last {rangeDays} days</caption>
        <thead>
          <tr>
            <th scope="col" title="Day 0 is the day the case opened">Nudge · day after opening</th>
            <th scope="col" title="Push and DM nudges of this step sent in the range">Nudges sent</th>
            <th scope="col" title="Cases whose first human click on these nudges' links was in the range">
              Cases that clicked these nudges
            </th>
            <th scope="col" title="Cases recovered in the range after these nudges had gone out">
              Cases recovered after
            </th>
          </tr>
        </thead>
        <tbody>
          {funnel.map((step) => (
            <tr
              key={`${step.step}:${step.offsetDays}`}
              data-step={step.step}
              data-offset={step.offsetDays ?? undefined}
            >
              <th scope="row">{stepLabel(step)}</th>
              <BarCell kind="sent" value={step.jobsSent} max={maxSent} />
              <BarCell kind="clicked" value={step.casesClicked} max={maxClicked} />
              <BarCell kind="recovered" value={step.casesRecovered} max={maxRecovered} />
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
