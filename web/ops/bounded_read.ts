// Ops reads are bounded twice: a statement timeout inside a read-only transaction (set per
// transaction, so it also holds behind a transaction-mode pooler) and a client-side deadline, so an
// answer goes out in time even when the database hangs or is gone.
import type postgres from "postgres";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { withTimeout } from "../../supabase/functions/_shared/timeout.ts";

export type OpsTx = postgres.TransactionSql;

export async function boundedRead<T>(
  sql: Sql,
  timeoutMs: number,
  work: (tx: OpsTx) => Promise<T>,
): Promise<T> {
  const read = sql.begin("read only", async (tx) => {
    await tx`select set_config('statement_timeout', ${String(Math.round(timeoutMs))}, true)`;
    return await work(tx);
  }) as Promise<T>;
  return await withTimeout(read, timeoutMs + 500, "ops read");
}

/** Seconds as a number (to the millisecond), or null. */
export function seconds(value: number | string | null): number | null {
  return value === null ? null : Math.round(Number(value) * 1000) / 1000;
}
