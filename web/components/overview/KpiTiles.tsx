// The Overview's key figures. Every tile carries data-kpi (and raw data-value numbers) so tests and
// scripts read the figures without parsing formatted text. Money is listed per currency, never added up.
import type { ComponentChildren } from "preact";
import type { Attribution, CurrencyAmount, Overview } from "../../queries/overview.ts";
import { formatMoney } from "../ui.tsx";
import { formatCount, formatPercent, share } from "./format.ts";

export const ATTRIBUTION_LABELS: Record<Attribution, string> = {
  click_through: "Click-through",
  nudged: "Nudged",
  organic: "Organic",
};

function Tile(
  { kpi, label, value, hint, children }: {
    kpi: string;
    label: string;
    value?: string | number;
    hint: ComponentChildren;
    children: ComponentChildren;
  },
) {
  return (
    <div class="kpi ov-tile" data-kpi={kpi} data-value={value === undefined ? undefined : String(value)}>
      <h3 class="label">{label}</h3>
      {children}
      <p class="hint">{hint}</p>
    </div>
  );
}

function MoneyList({ amounts, empty }: { amounts: CurrencyAmount[]; empty: string }) {
  if (amounts.length === 0) return <p class="value">{empty}</p>;
  return (
    <ul class="ov-money">
      {amounts.map((item) => (
        <li
          key={item.currency}
          data-currency={item.currency}
          data-value={item.amountMinor}
          data-cases={item.cases}
        >
          <span class="value">{formatMoney(item.amountMinor, item.currency)}</span>{" "}
          <span class="muted">
            {item.currency.toUpperCase()} · {formatCount(item.cases)} {item.cases === 1 ? "case" : "cases"}
          </span>
        </li>
      ))}
    </ul>
  );
}

export function KpiTiles({ data }: { data: Overview }) {
  const range = `the last ${data.rangeDays} days`;
  const settled = data.closed.recovered + data.closed.lost + data.closed.expired;
  const recovered = data.closed.recovered;
  return (
    <section class="ov-section" aria-labelledby="ov-kpis-heading">
      <h2 id="ov-kpis-heading" class="sr-only">Key figures</h2>
      <div class="kpis ov-kpis">
        <Tile kpi="open_cases" label="Open cases" value={data.openCases} hint="Right now, all open cases.">
          <p class="value">{formatCount(data.openCases)}</p>
        </Tile>
        <Tile
          kpi="revenue_at_risk"
          label="Revenue at risk"
          hint="Right now: amounts of open cases, per currency."
        >
          <MoneyList amounts={data.atRisk} empty="None" />
        </Tile>
        <Tile
          kpi="recovered_cases"
          label="Recovered cases"
          value={recovered}
          hint={`Cases recovered in ${range}.`}
        >
          <p class="value">{formatCount(recovered)}</p>
        </Tile>
        <Tile
          kpi="recovery_rate"
          label="Recovery rate"
          value={data.recoveryRate === null ? "none" : data.recoveryRate.toFixed(4)}
          hint={
            <>
              Recovered ÷ (recovered + lost + expired), over cases closed in {range}: {formatCount(recovered)}
              {" "}
              of {formatCount(settled)}. Dismissed cases are left out.
            </>
          }
        >
          <p class="value" data-recovered={recovered} data-settled={settled}>
            {formatPercent(data.recoveryRate)}
          </p>
        </Tile>
        <Tile
          kpi="recovered_revenue"
          label="Recovered revenue"
          hint={`Cases recovered in ${range}, per currency (never converted).`}
        >
          <MoneyList amounts={data.recoveredRevenue} empty="None yet" />
        </Tile>
        <AttributionTile attribution={data.attribution} total={recovered} range={range} />
      </div>
    </section>
  );
}

function AttributionTile(
  { attribution, total, range }: { attribution: Record<Attribution, number>; total: number; range: string },
) {
  const kinds = Object.keys(ATTRIBUTION_LABELS) as Attribution[];
  return (
    <Tile
      kpi="attribution"
      label="How recoveries happened"
      value={total}
      hint={`Cases recovered in ${range}: after a click on a recovery link, after a nudge, or on their own.`}
    >
      {total > 0 && (
        <div class="ov-split" aria-hidden="true">
          {kinds.map((kind) =>
            attribution[kind] > 0 && (
              <span
                key={kind}
                class={`ov-split-part ov-${kind}`}
                style={`width: ${share(attribution[kind], total)}%`}
              />
            )
          )}
        </div>
      )}
      <ul class="ov-split-legend">
        {kinds.map((kind) => (
          <li key={kind} data-attribution={kind} data-value={attribution[kind]}>
            <span class={`ov-swatch ov-${kind}`} aria-hidden="true" />
            {ATTRIBUTION_LABELS[kind]} <strong>{formatCount(attribution[kind])}</strong>
            {total > 0 && <span class="muted">({share(attribution[kind], total)}%)</span>}
          </li>
        ))}
      </ul>
    </Tile>
  );
}
