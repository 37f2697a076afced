// The funnel per nudge step: how many nudges went out, how many cases clicked a link of that step,
// and how many recovered after it. A table (readable by everyone, screen readers included); the bars
// compare the steps within each column (the longest bar is that column's largest number).
import type { FunnelStep } from "../../queries/overview.ts";
import { formatCount, share } from "./format.ts";

export function stepLabel(step: FunnelStep): string {
  const name = `Nudge ${step.step + 1}`;
  return step.offsetDays === null ? name : `${name} · day ${step.offsetDays}`;
}

function BarCell({ kind, value, max }: { kind: string; value: number; max: number }) {
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
    return (
      <p class="muted" data-testid="funnel-empty">
        No nudges were sent in the last {rangeDays}{" "}
        days. Nudges go out on the days of your schedule once a case opens (see Settings).
      </p>
    );
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
            <th scope="col">Step</th>
            <th scope="col">Nudges sent</th>
            <th scope="col">Cases clicked</th>
            <th scope="col">Cases recovered after</th>
          </tr>
        </thead>
        <tbody>
          {funnel.map((step) => (
            <tr key={step.step} data-step={step.step}>
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
