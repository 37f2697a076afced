// deno task reprocess --since <time> [--batch N]
// Processes stored, unprocessed webhook events (those that arrived while processing was off) in
// event-time order, a batch of memberships at a time, printing progress and a summary. Safe to run
// again: replaying a membership is idempotent. Needs DATABASE_URL (read from .local/stack.env when
// it is not set, for the local stack).
import postgres from "postgres";
import { redactText } from "../supabase/functions/_shared/log.ts";
import { envOrLocalStack } from "./lib/stack_env.ts";

const usage = "usage: deno task reprocess --since <ISO time | 'all'> [--batch N]";

function parseArgs(args: string[]) {
  let since: string | undefined;
  let batch = 200;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--since") since = args[++i];
    else if (args[i] === "--batch") batch = Number(args[++i]);
    else if (args[i] === "-h" || args[i] === "--help") {
      console.log(usage);
      Deno.exit(0);
    } else fail(`unknown option "${args[i]}". ${usage}`);
  }
  if (!since) fail(`--since is required. ${usage}`);
  // null = from the beginning.
  const sinceTime = since === "all" ? null : since;
  if (sinceTime !== null && Number.isNaN(Date.parse(sinceTime))) {
    fail(`--since "${since}" is not a time; give an ISO 8601 time such as 2026-11-01T00:00:00Z, or "all".`);
  }
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) {
    fail("--batch must be a whole number from 1 to 10000.");
  }
  return { since: sinceTime, batch };
}

function fail(message: string): never {
  console.error(`reprocess: ${message}`);
  Deno.exit(2);
}

async function databaseUrl(): Promise<string> {
  return await envOrLocalStack("DATABASE_URL") ?? fail(
    "DATABASE_URL is not set (and no local stack was found in .local/stack.env). Set it to the database's URL.",
  );
}

if (import.meta.main) {
  const { since, batch } = parseArgs(Deno.args);
  const sql = postgres(await databaseUrl(), { max: 1, onnotice: () => {} });
  const totals = { memberships: 0, events: 0, skipped: 0, rounds: 0 };
  const started = performance.now();
  try {
    for (;;) {
      const [{ result }] = await sql<
        { result: { memberships: number; events: number; skipped_memberships: number; remaining: number } }[]
      >`
        select public.process_pending_events(coalesce(${since}::timestamptz, '-infinity'), ${batch}) as result`;
      totals.rounds++;
      totals.memberships += result.memberships;
      totals.events += result.events;
      totals.skipped = result.skipped_memberships;
      console.log(
        `round ${totals.rounds}: ${result.memberships} memberships, ${result.events} events processed; ${result.remaining} waiting`,
      );
      // Done, or only companies for which processing is off are left.
      if (result.remaining === 0 || result.memberships === 0) break;
    }
  } catch (error) {
    fail(`${redactText((error as Error).message)}. Is DATABASE_URL right and the database up?`);
  } finally {
    await sql.end();
  }
  console.log(
    `\nsummary: ${totals.events} events of ${totals.memberships} memberships processed in ${totals.rounds} rounds ` +
      `(${((performance.now() - started) / 1000).toFixed(1)} s)` +
      (totals.skipped
        ? `; ${totals.skipped} memberships skipped because processing is off for their company`
        : ""),
  );
}
