// What recovers and what does not: settled cases by reason and by Whop's failure message (recovery
// rate per group), and nudges by channel. The failure message is Whop's own text, stored in the clear on
// events (not member data), so groups are the exact messages; a payment case whose events carried none
// (or were purged, 30 days after receipt) is under "No message recorded".
import type { ChannelFigures, OutcomeGroup, PeriodFigures } from "../../queries/overview.ts";
import { REASON_WORDS } from "../cases/CaseLabels.tsx";
import { formatCount, formatPercent } from "./format.ts";
import { BarCell } from "./NudgeFunnel.tsx";

const CHANNEL_WORDS: Record<string, string> = { push: "Push notification", dm: "Direct message" };

function OutcomeTable(
  { kind, caption, groups, label, empty }: {
    kind: string;
    caption: string;
    groups: OutcomeGroup[];
    label: (key: string) => string;
    empty: string;
  },
) {
  if (groups.length === 0) return <p class="muted" data-breakdown-empty={kind}>{empty}</p>;
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={caption}>
      <table class="data ov-breakdown" data-breakdown={kind}>
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{kind === "reason" ? "Reason" : "Failure message"}</th>
            <th scope="col" title="Recovered, lost or expired in the range (dismissed left out)">Closed</th>
            <th scope="col">Recovered</th>
            <th scope="col">Recovery rate</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((group) => (
            <tr key={group.key} data-key={group.key}>
              <th scope="row" class="ov-breakdown-key">{label(group.key)}</th>
              <td data-value={group.settled}>{formatCount(group.settled)}</td>
              <td data-value={group.recovered}>{formatCount(group.recovered)}</td>
              <td data-rate={group.rate === null ? "none" : group.rate.toFixed(4)}>
                <span class="ov-share">
                  <span class="ov-share-figure">{formatPercent(group.rate)}</span>
                  <span class="ov-share-track" aria-hidden="true">
                    <span
                      class="ov-share-bar ov-recovered"
                      style={`width: ${Math.round((group.rate ?? 0) * 100)}%`}
                    />
                  </span>
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ChannelTable({ channels }: { channels: ChannelFigures[] }) {
  if (channels.length === 0) {
    return <p class="muted" data-breakdown-empty="channel">No nudges in the range.</p>;
  }
  const max = (pick: (row: ChannelFigures) => number) => Math.max(...channels.map(pick));
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Nudges by channel">
      <table class="data ov-breakdown" data-breakdown="channel">
        <caption class="sr-only">Nudges by channel</caption>
        <thead>
          <tr>
            <th scope="col">Channel</th>
            <th scope="col">Nudges sent</th>
            <th scope="col" title="Cases whose first human click on this channel's links was in the range">
              Cases that clicked
            </th>
            <th scope="col" title="Cases recovered in the range after a nudge of this channel">
              Cases recovered after
            </th>
          </tr>
        </thead>
        <tbody>
          {channels.map((row) => (
            <tr key={row.channel} data-key={row.channel}>
              <th scope="row">{CHANNEL_WORDS[row.channel] ?? row.channel}</th>
              <BarCell kind="sent" value={row.sent} max={max((r) => r.sent)} />
              <BarCell kind="clicked" value={row.clicked} max={max((r) => r.clicked)} />
              <BarCell kind="recovered" value={row.recovered} max={max((r) => r.recovered)} />
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Breakdowns({ data }: { data: PeriodFigures }) {
  return (
    <section class="card ov-section" aria-labelledby="ov-breakdowns-heading">
      <h2 id="ov-breakdowns-heading">What recovers</h2>
      {data.daysWithoutBreakdowns > 0 && (
        <p class="muted ov-lead" data-testid="breakdowns-partial">
          {formatCount(data.daysWithoutBreakdowns)}{" "}
          older days are not in these tables (recorded before they existed).
        </p>
      )}
      <div class="ov-breakdowns">
        <div>
          <h3>By reason</h3>
          <OutcomeTable
            kind="reason"
            caption="Cases closed by reason"
            groups={data.byReason}
            label={(key) => REASON_WORDS[key] ?? key}
            empty="No cases closed in the range."
          />
        </div>
        <div>
          <h3>By channel</h3>
          <ChannelTable channels={data.byChannel} />
        </div>
        <div>
          <h3 title="Whop's message on the latest failed payment of each case">By failure message</h3>
          <OutcomeTable
            kind="failure_message"
            caption="Payment cases closed by failure message"
            groups={data.byFailureMessage}
            label={(key) => (key === "" ? "No message recorded" : key)}
            empty="No failed-payment cases closed in the range."
          />
        </div>
      </div>
    </section>
  );
}
