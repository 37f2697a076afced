// Formatting shared by the Overview components.

/** 0.6667 → "66.7%"; null → "—". */
export function formatPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return "—";
  return `${(Math.round(ratio * 1000) / 10).toFixed(1)}%`;
}

/** Share of a part in a whole as a whole-number percent (0 when the whole is 0), for bar widths. */
export function share(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 100) : 0;
}

const DAY_SHORT = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
const DAY_LONG = new Intl.DateTimeFormat("en-US", {
  weekday: "short",
  month: "short",
  day: "numeric",
  year: "numeric",
  timeZone: "UTC",
});

/** "2026-11-03" (a calendar day, already in the company's zone) → "Nov 3". */
export function formatDayShort(day: string): string {
  return DAY_SHORT.format(new Date(`${day}T00:00:00Z`));
}

/** "2026-11-03" → "Tue, Nov 3, 2026". */
export function formatDayLong(day: string): string {
  return DAY_LONG.format(new Date(`${day}T00:00:00Z`));
}

export const formatCount = (value: number) => value.toLocaleString("en-US");
