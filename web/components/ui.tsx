// Small building blocks shared by the dashboard pages.
import { type ComponentChildren, createContext } from "preact";
import { useContext } from "preact/hooks";
import { CLOSED_BY_WORDS } from "./cases/CaseLabels.tsx";

export function PageHeader(
  { title, subtitle, actions }: { title: string; subtitle?: ComponentChildren; actions?: ComponentChildren },
) {
  return (
    <div class="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p class="muted">{subtitle}</p>}
      </div>
      {actions && <div class="page-actions">{actions}</div>}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty-state" role="status">
      <h2>{title}</h2>
      {children && <p class="muted">{children}</p>}
    </div>
  );
}

const STATUS_LABELS: Record<string, string> = {
  open: "Open",
  recovered: "Recovered",
  lost: "Lost",
  expired: "Expired",
  dismissed: "Dismissed",
};

export function StatusBadge({ status, closedBy }: { status: string; closedBy?: string | null }) {
  const label = STATUS_LABELS[status] ?? status;
  return (
    <span class={`badge badge-${status}`}>
      {closedBy ? `${label} — ${CLOSED_BY_WORDS[closedBy] ?? closedBy}` : label}
    </span>
  );
}

/** Money in minor units, in the currency's own format (USD 2999 → $29.99, JPY 500 → ¥500). */
export function formatMoney(amountMinor: number | bigint | string | null, currency: string | null): string {
  if (amountMinor === null || currency === null) return "—";
  const code = currency.toUpperCase();
  try {
    const format = new Intl.NumberFormat("en-US", { style: "currency", currency: code });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(Number(amountMinor) / 10 ** digits);
  } catch {
    return `${amountMinor} ${code}`;
  }
}

/** The company's time zone, for every moment a dashboard page shows (renderDashboard provides it). */
export const TimeZoneContext = createContext("UTC");

const dateTimeFormats = new Map<string, { local: Intl.DateTimeFormat; zoneNames: Intl.DateTimeFormat[] }>();

/**
 * A moment as "2026-03-10 13:00 CET": minutes, in `timeZone`, named by its abbreviation where the
 * zone has one ("UTC", "CET", "EDT"; British and American English know different ones) and by its
 * offset otherwise ("GMT+5:30").
 */
export function formatDateTime(value: Date | string | null, timeZone = "UTC"): string {
  if (!value) return "—";
  let formats = dateTimeFormats.get(timeZone);
  if (!formats) {
    const zoneName = (locale: string) => new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: "short" });
    formats = {
      local: new Intl.DateTimeFormat("en-GB", {
        timeZone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      }),
      zoneNames: [zoneName("en-GB"), zoneName("en-US")],
    };
    dateTimeFormats.set(timeZone, formats);
  }
  const date = new Date(value);
  const parts = Object.fromEntries(formats.local.formatToParts(date).map((part) => [part.type, part.value]));
  const names = formats.zoneNames.map((format) =>
    format.formatToParts(date).find((part) => part.type === "timeZoneName")?.value ?? timeZone
  );
  const zone = names.find((name) => /^[A-Z]{2,5}$/.test(name)) ?? names[0];
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${zone}`;
}

/** A moment in the company's time zone, exact (UTC) in `datetime` for machines. */
export function DateTime({ value }: { value: Date | string | null }) {
  const timeZone = useContext(TimeZoneContext);
  if (!value) return <>—</>;
  const date = new Date(value);
  return <time datetime={date.toISOString()}>{formatDateTime(date, timeZone)}</time>;
}
