// Small building blocks shared by the dashboard pages.
import type { ComponentChildren } from "preact";
import { CLOSED_BY_WORDS } from "./cases/CaseLabels.tsx";

export function PageHeader(
  { title, subtitle, actions }: { title: string; subtitle?: string; actions?: ComponentChildren },
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

export function formatDateTime(value: Date | string | null): string {
  if (!value) return "—";
  return new Date(value).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}
