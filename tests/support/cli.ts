// Runs a `deno task` CLI of the project the way an operator does, against the test stack.
import { stack, stackVar } from "./stack.ts";

const root = new URL("../../", import.meta.url).pathname;

export interface TaskResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for assertion messages. */
  text: string;
}

export async function runTask(
  task: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<TaskResult> {
  const output = await new Deno.Command("deno", {
    args: ["task", "--quiet", task, ...args],
    cwd: root,
    env: { DATABASE_URL: stack.databaseUrl, DENO_NO_PACKAGE_JSON: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  return { code: output.code, stdout, stderr, text: stdout + stderr };
}

/** `deno task rollout ...` with the test stack's database, dashboard and ops token. */
export const rollout = (args: string[], env: Record<string, string> = {}) =>
  runTask("rollout", args, {
    DASHBOARD_URL: stack.dashboardUrl,
    OPS_TOKEN: stackVar("OPS_TOKEN"),
    ROLLOUT_ACTOR: "rollout-test",
    ...env,
  });
