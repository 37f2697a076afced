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

/** The sign of a change as a word, for CSS classes and tests: "up", "down" or "same". */
export function direction(change: number): "up" | "down" | "same" {
  return change > 0 ? "up" : change < 0 ? "down" : "same";
}

/** 0.12 (a change of two ratios) → "+12.0 pts"; 0 → "±0 pts". */
export function formatPoints(change: number): string {
  const points = Math.round(change * 1000) / 10;
  if (points === 0) return "±0 pts";
  return `${points > 0 ? "+" : "−"}${Math.abs(points).toFixed(1)} pts`;
}

/** 3 → "+3"; -2 → "−2"; 0 → "±0". */
export function formatSigned(change: number, format: (magnitude: number) => string = formatCount): string {
  if (change === 0) return `±${format(0)}`;
  return `${change > 0 ? "+" : "−"}${format(Math.abs(change))}`;
}
