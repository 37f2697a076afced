// `deno task rollout <command>`: the rollout plan's steps as commands (./commands.ts). Every flag
// change is one audited transaction; every command prints progress and a summary table; errors name
// the problem and what to do (exit 2 for a wrong command line, 1 for anything else that failed).
import { redactText } from "../../supabase/functions/_shared/log.ts";
import { CliError } from "../lib/database.ts";
import { parseArgs } from "./args.ts";
import { type Command, commands } from "./commands.ts";

function overview(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return [
    "usage: deno task rollout <command> [options]   (deno task rollout help <command> for details)",
    "",
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    "",
    "Environment: DATABASE_URL (default: the local stack's, .local/stack.env), DASHBOARD_URL",
    "(default http://127.0.0.1:8000), OPS_TOKEN (for /api/alerts), ROLLOUT_ACTOR. Phases and incidents: RUNBOOK.md.",
  ].join("\n");
}

const commandHelp = (command: Command) =>
  `${command.usage}\n\n${command.summary}.\n${command.details}`.trimEnd();

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
      const topic = name === "help" ? rest[0] : undefined;
      if (topic !== undefined && !commands[topic]) {
        throw new CliError(`no command "${topic}".\n\n${overview()}`, 2);
      }
      console.log(topic ? commandHelp(commands[topic]) : overview());
      return name === undefined ? 2 : 0;
    }
    const command = commands[name];
    if (!command) throw new CliError(`unknown command "${name}".\n\n${overview()}`, 2);
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(commandHelp(command));
      return 0;
    }
    return await command.run(parseArgs(rest, command.options, command.usage), command.usage);
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`rollout: ${error.message}`);
      return error.exitCode;
    }
    console.error(`rollout: ${redactText((error as Error).message ?? String(error))}`);
    return 1;
  }
}
