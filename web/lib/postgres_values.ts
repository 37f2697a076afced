// What Postgres accepts, checked before a value from a URL reaches a query: a value it refuses
// would fail the statement (a 500) instead of answering the request's mistake (a 400).

const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

/** Whether `text` is an integer (digits, optionally signed) that fits a Postgres bigint. */
export function fitsBigint(text: string): boolean {
  if (!/^-?\d{1,20}$/.test(text)) return false;
  const value = BigInt(text);
  return value >= BIGINT_MIN && value <= BIGINT_MAX;
}

/** Microseconds since the Unix epoch up to the end of year 9999: what our cursors can carry. */
export const MAX_CURSOR_MICROSECONDS = BigInt(Date.UTC(10000, 0, 1)) * 1000n - 1n;
