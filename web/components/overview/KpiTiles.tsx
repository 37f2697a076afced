// The Overview's key figures, each range figure with its change against the previous period of the
// same length. Every tile carries data-kpi (and raw data-value / data-previous numbers) so tests and
// scripts read the figures without parsing formatted text. Money is listed per currency, never added up.
// Definitions stay out of the way: in title attributes (hover) and the page's "How this is counted".
import type { ComponentChildren } from "preact";
import type {
  AmountRate,
  Attribution,
  CurrencyAmount,
  Overview,
  PeriodFigures,
} from "../../queries/overview.ts";
import { formatMoney } from "../ui.tsx";
import {
  direction,
  formatCount,
  formatDayShort,
  formatPercent,
  formatPoints,
  formatSigned,
  share,
} from "./format.ts";

export const ATTRIBUTION_LABELS: Record<Attribution, string> = {
  click_through: "Clicked a link",
  nudged: "Nudged, no click",
  organic: "On their own",
};

const ATTRIBUTION_TITLES: Record<Attribution, string> = {
  click_through:
    "The member clicked a recovery link (of any nudge, at any time, or the app's page) before paying.",
  nudged: "A nudge was delivered, without a click.",
  organic: "Neither: no nudge delivered and no click.",
};

/** Whether a rise is good news (recoveries), bad news (new cases) or neither. */
type Polarity = "higher_is_better" | "higher_is_worse";

function Change(
  { change, text, polarity, previous }: {
    change: number | null;
    text: string;
    polarity: Polarity;
    previous: PeriodFigures;
  },
) {
  const period = `previous ${periodLength(previous)} days`;
  const title = `${formatDayShort(previous.firstDay)} – ${formatDayShort(previous.lastDay)}`;
  if (change === null) {
    return <p class="ov-change ov-change-none" title={title}>Nothing to compare with the {period}</p>;
  }
  const dir = direction(change);
  const good = polarity === "higher_is_better" ? dir === "up" : dir === "down";
  const tone = dir === "same" ? "same" : good ? "good" : "bad";
  return (
    <p class={`ov-change ov-change-${tone}`} data-direction={dir} title={title}>
      {text} <span class="muted">vs {period}</span>
    </p>
  );
}

function periodLength(period: PeriodFigures): number {
  return Math.round(
    (Date.parse(`${period.lastDay}T00:00:00Z`) - Date.parse(`${period.firstDay}T00:00:00Z`)) / 86_400_000,
  ) + 1;
}

function Tile(
  { kpi, label, value, previous, title, children }: {
    kpi: string;
    label: string;
    value?: string | number;
    previous?: string | number;
    /** What the figure counts, on hover. */
    title: string;
    children: ComponentChildren;
  },
) {
  return (
    <div
      class="kpi ov-tile"
      data-kpi={kpi}
      data-value={value === undefined ? undefined : String(value)}
      data-previous={previous === undefined ? undefined : String(previous)}
    >
      <h3 class="label" title={title}>{label}</h3>
      {children}
    </div>
  );
}

function MoneyList(
  { amounts, previous, empty, prior }: {
    amounts: CurrencyAmount[];
    empty: string;
    /** The previous period's amounts, for a change per currency. */
    previous?: CurrencyAmount[];
    prior?: PeriodFigures;
  },
) {
  const currencies = [
    ...new Set([...amounts, ...(previous ?? [])].map((item) => item.currency)),
  ].sort();
  if (currencies.length === 0) return <p class="value">{empty}</p>;
  return (
    <ul class="ov-money">
      {currencies.map((currency) => {
        const item = amounts.find((amount) => amount.currency === currency);
        const before = previous?.find((amount) => amount.currency === currency);
        const now = item?.amountMinor ?? "0";
        const cases = item?.cases ?? 0;
        return (
          <li
            key={currency}
            data-currency={currency}
            data-value={now}
            data-cases={cases}
            data-previous={previous ? (before?.amountMinor ?? "0") : undefined}
          >
            <span class="value">{formatMoney(now, currency)}</span>{" "}
            <span class="muted">
              {currency.toUpperCase()} · {formatCount(cases)} {cases === 1 ? "case" : "cases"}
            </span>
            {previous && prior && (
              <Change
                change={Number(now) - Number(before?.amountMinor ?? 0)}
                text={formatSigned(
                  Number(now) - Number(before?.amountMinor ?? 0),
                  (minor) => formatMoney(minor, currency),
                )}
                polarity="higher_is_better"
                previous={prior}
              />
            )}
          </li>
        );
      })}
    </ul>
  );
}

const rateValue = (rate: number | null) => (rate === null ? "none" : rate.toFixed(4));
const rateChange = (now: number | null, before: number | null) =>
  now === null || before === null ? null : now - before;

function AmountRates(
  { rates, previous, prior }: { rates: AmountRate[]; previous: AmountRate[]; prior: PeriodFigures },
) {
  if (rates.length === 0) return <p class="value">—</p>;
  return (
    <ul class="ov-money">
      {rates.map((item) => {
        const before = previous.find((rate) => rate.currency === item.currency)?.rate ?? null;
        const change = rateChange(item.rate, before);
        return (
          <li
            key={item.currency}
            data-currency={item.currency}
            data-rate={rateValue(item.rate)}
            data-recovered={item.recoveredMinor}
            data-at-risk={item.atRiskMinor}
            data-previous={rateValue(before)}
            title={`${formatMoney(item.recoveredMinor, item.currency)} recovered of ${
              formatMoney(item.atRiskMinor, item.currency)
            } at risk`}
          >
            <span class="value">{formatPercent(item.rate)}</span>{" "}
            <span class="muted">{item.currency.toUpperCase()}</span>
            <Change
              change={change}
              text={formatPoints(change ?? 0)}
              polarity="higher_is_better"
              previous={prior}
            />
          </li>
        );
      })}
    </ul>
  );
}

export function KpiTiles({ data }: { data: Overview }) {
  const prior = data.previous;
  const settled = data.closed.recovered + data.closed.lost + data.closed.expired;
  const recovered = data.closed.recovered;
  const countChange = (now: number, before: number, polarity: Polarity) => (
    <Change change={now - before} text={formatSigned(now - before)} polarity={polarity} previous={prior} />
  );
  return (
    <section class="ov-section" aria-labelledby="ov-kpis-heading">
      <h2 id="ov-kpis-heading" class="sr-only">Key figures</h2>
      <div class="kpis ov-kpis">
        <Tile kpi="open_cases" label="Open cases" value={data.openCases} title="All cases open right now.">
          <p class="value">{formatCount(data.openCases)}</p>
          <p class="hint">Right now</p>
        </Tile>
        <Tile kpi="revenue_at_risk" label="Revenue at risk" title="Amounts of the cases open right now.">
          <MoneyList amounts={data.atRisk} empty="None" />
          <p class="hint">Right now</p>
        </Tile>
        <Tile
          kpi="opened_cases"
          label="Cases opened"
          value={data.openedInRange}
          previous={prior.openedInRange}
          title="Cases opened in the range: failed payments and scheduled cancellations."
        >
          <p class="value">{formatCount(data.openedInRange)}</p>
          {countChange(data.openedInRange, prior.openedInRange, "higher_is_worse")}
        </Tile>
        <Tile
          kpi="recovered_cases"
          label="Recovered cases"
          value={recovered}
          previous={prior.closed.recovered}
          title="Cases recovered in the range, whenever they opened."
        >
          <p class="value">{formatCount(recovered)}</p>
          {countChange(recovered, prior.closed.recovered, "higher_is_better")}
        </Tile>
        <Tile
          kpi="recovery_rate"
          label="Recovery rate (cases)"
          value={rateValue(data.recoveryRate)}
          previous={rateValue(prior.recoveryRate)}
          title={`Recovered ÷ (recovered + lost + expired), over cases closed in the range: ${
            formatCount(recovered)
          } of ${formatCount(settled)}. Dismissed cases are left out.`}
        >
          <p class="value" data-recovered={recovered} data-settled={settled}>
            {formatPercent(data.recoveryRate)}
          </p>
          <Change
            change={rateChange(data.recoveryRate, prior.recoveryRate)}
            text={formatPoints(rateChange(data.recoveryRate, prior.recoveryRate) ?? 0)}
            polarity="higher_is_better"
            previous={prior}
          />
        </Tile>
        <Tile
          kpi="amount_rate"
          label="Recovery rate (amount)"
          title="Money recovered ÷ money at risk, over the same cases (those with an amount), per currency."
        >
          <AmountRates rates={data.amountRates} previous={prior.amountRates} prior={prior} />
        </Tile>
        <Tile
          kpi="recovered_revenue"
          label="Recovered revenue"
          title="Money of the cases recovered in the range, per currency (never converted)."
        >
          <MoneyList
            amounts={data.recoveredRevenue}
            previous={prior.recoveredRevenue}
            prior={prior}
            empty="None yet"
          />
        </Tile>
        <AttributionTile data={data} />
      </div>
    </section>
  );
}

function AttributionTile({ data }: { data: Overview }) {
  const kinds = Object.keys(ATTRIBUTION_LABELS) as Attribution[];
  const total = data.closed.recovered;
  return (
    <Tile
      kpi="attribution"
      label="How recovered cases came back"
      value={total}
      previous={data.previous.closed.recovered}
      title="Cases recovered in the range, by what happened before they paid."
    >
      {total > 0 && (
        <div class="ov-split" aria-hidden="true">
          {kinds.map((kind) =>
            data.attribution[kind] > 0 && (
              <span
                key={kind}
                class={`ov-split-part ov-${kind}`}
                style={`width: ${share(data.attribution[kind], total)}%`}
              />
            )
          )}
        </div>
      )}
      <ul class="ov-split-legend">
        {kinds.map((kind) => (
          <li
            key={kind}
            data-attribution={kind}
            data-value={data.attribution[kind]}
            data-previous={data.previous.attribution[kind]}
            title={ATTRIBUTION_TITLES[kind]}
          >
            <span class={`ov-swatch ov-${kind}`} aria-hidden="true" />
            {ATTRIBUTION_LABELS[kind]} <strong>{formatCount(data.attribution[kind])}</strong>
            {total > 0 && <span class="muted">({share(data.attribution[kind], total)}%)</span>}
          </li>
        ))}
      </ul>
    </Tile>
  );
}
