// How the command-line tools reach the database: DATABASE_URL, or the running local stack's
// (./stack_env.ts), with an error that says what to do when neither is there or the database does
// not answer.
import postgres from "postgres";
import { describeDbError } from "../../supabase/functions/_shared/db.ts";
import { envOrLocalStack } from "./stack_env.ts";

/** A connection pool or a transaction: queries run the same on both. */
export type Sql = postgres.Sql | postgres.TransactionSql;

/** A failure a command-line tool reports as one line, then exits with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export async function databaseUrl(): Promise<string> {
  const url = (await envOrLocalStack("DATABASE_URL"))?.trim();
  if (url) return url;
  throw new CliError(
    "DATABASE_URL is not set (and no local stack was found in .local/stack.env). Set it to the database's URL.",
  );
}

/** A small pool for one tool run, checked with a round trip so that a dead database fails fast. */
export async function connectDatabase(applicationName: string): Promise<postgres.Sql> {
  const url = await databaseUrl();
  const sql = postgres(url, {
    max: 2,
    connect_timeout: 5,
    onnotice: () => {},
    connection: { application_name: applicationName },
  });
  try {
    await sql`select 1`;
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw new CliError(
      `cannot reach the database at ${describeHost(url)} (${describeDbError(error)}). ` +
        "Check DATABASE_URL and that the database is up (locally: scripts/dev.sh starts it).",
    );
  }
  return sql;
}

/** host:port/database of a URL, never its password. */
function describeHost(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
  } catch {
    return "an unparseable DATABASE_URL";
  }
}
