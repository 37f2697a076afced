// Runs a `deno task` CLI of the project the way an operator does, against the test stack.
import { stack } from "./stack.ts";

const root = new URL("../../", import.meta.url).pathname;

export async function runTask(task: string, args: string[], env: Record<string, string> = {}) {
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
