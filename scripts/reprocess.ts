// deno task reprocess --since <time> [--batch N]
// Processes stored, unprocessed webhook events (those that arrived while processing was off) in
// event-time order, a batch of memberships at a time, printing progress and a summary. Safe to run
// again: replaying a membership is idempotent. Needs DATABASE_URL (read from .local/stack.env when
// it is not set, for the local stack). `deno task rollout reprocess` does the same, audited.
import { redactText } from "../supabase/functions/_shared/log.ts";
import { CliError, connectDatabase } from "./lib/database.ts";
import { parseBatch, parseReprocessSince, reprocessEvents, reprocessSummary } from "./rollout/reprocess.ts";

const usage = "usage: deno task reprocess --since <ISO time | 'all'> [--batch N]";

function parseArgs(args: string[]) {
  let since: string | undefined;
  let batch: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--since") since = args[++i];
    else if (args[i] === "--batch") batch = args[++i];
    else if (args[i] === "-h" || args[i] === "--help") {
      console.log(usage);
      Deno.exit(0);
    } else throw new CliError(`unknown option "${args[i]}". ${usage}`, 2);
  }
  return { since: parseReprocessSince(since), batch: parseBatch(batch) };
}

if (import.meta.main) {
  try {
    const { since, batch } = parseArgs(Deno.args);
    const sql = await connectDatabase("reprocess");
    try {
      console.log(`\n${reprocessSummary(await reprocessEvents(sql, since, batch))}`);
    } finally {
      await sql.end();
    }
  } catch (error) {
    const message = error instanceof CliError
      ? error.message
      : `${redactText((error as Error).message)}. Is DATABASE_URL right and the database up?`;
    console.error(`reprocess: ${message}`);
    Deno.exit(error instanceof CliError ? error.exitCode : 2);
  }
}
