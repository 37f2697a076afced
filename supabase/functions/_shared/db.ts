// One Postgres client per process (postgres.js). Statements are not prepared because hosted
// Supabase may put a transaction-mode pooler (Supavisor) between us and Postgres.
import postgres from "postgres";
import { TimeoutError, withTimeout } from "./timeout.ts";

export type Sql = postgres.Sql;

export interface DbOptions {
  /** Connections in the pool. Edge isolates are small: keep it low there. */
  max?: number;
  /** Shown in pg_stat_activity, so operators can tell our connections apart. */
  applicationName: string;
}

export function createDb(url: string, options: DbOptions): Sql {
  return postgres(url, {
    max: options.max ?? 5,
    idle_timeout: 30,
    connect_timeout: 5,
    prepare: false,
    onnotice: () => {},
    connection: { application_name: options.applicationName },
  });
}

/**
 * A string as a SQL literal, escaped as libpq's PQescapeLiteral does: quotes doubled and, when there
 * is a backslash, an `E'...'` literal with backslashes doubled, so it means the same text whatever
 * `standard_conforming_strings` is. NUL cannot be in Postgres text and is refused.
 *
 * Why not a parameter: with `prepare: false` (needed behind a transaction-mode pooler), postgres.js
 * sends a statement with parameters in two round trips (Parse + Describe, wait for the parameter
 * types, then Bind + Execute); a statement without parameters goes in one. On the webhook's one
 * statement per delivery that halves its round trips (BENCHMARKS.md, ingest).
 */
export function sqlLiteral(text: string): string {
  if (text.includes("\0")) throw new RangeError("A SQL text literal cannot hold a NUL character.");
  const quoted = text.replaceAll("'", "''");
  return text.includes("\\") ? ` E'${quoted.replaceAll("\\", "\\\\")}'` : `'${quoted}'`;
}

export type DbCheck =
  | { status: "ok"; latency_ms: number }
  | { status: "unavailable"; latency_ms: number; error: string };

/** A bounded round trip: answers within `timeoutMs` even when the database hangs. */
export async function checkDb(sql: Sql, timeoutMs = 2000): Promise<DbCheck> {
  const started = performance.now();
  try {
    await withTimeout(sql`select 1`, timeoutMs, "database");
    return { status: "ok", latency_ms: elapsed(started) };
  } catch (error) {
    return { status: "unavailable", latency_ms: elapsed(started), error: describeDbError(error) };
  }
}

/** A database error in words that never include the connection string or its password. */
export function describeDbError(error: unknown): string {
  if (error && typeof error === "object") {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code === "string" && code.length > 0) return `database error ${code}`;
    if (error instanceof TimeoutError && typeof message === "string") return message;
  }
  return "database unreachable";
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
