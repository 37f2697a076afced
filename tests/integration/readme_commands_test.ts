// README's "put deno on your PATH" lines, run literally in a fresh copy of the repository by a shell
// that has no deno on its PATH, after the install step the two scripts run (npm ci of package.json):
// the task runs, prints nothing about package.json's pins, and leaves the checkout as it was.
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;

async function run(cmd: string, args: string[], options: Deno.CommandOptions = {}) {
  const output = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", ...options }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return { code: output.code, text };
}

/** The sh block that follows the README's sentence about `deno task`. */
async function readmePathBlock(): Promise<string> {
  const readme = await Deno.readTextFile(`${root}README.md`);
  const at = readme.indexOf("Every other command in this README is a `deno task`.");
  assert.ok(at >= 0, "README still says how to get deno on the PATH");
  const block = readme.slice(at).match(/```sh\n([\s\S]*?)```/);
  assert.ok(block, "with a sh block of commands");
  return block[1];
}

/** PATH's directories without any deno (the machine may have one of its own). */
async function pathWithoutDeno(): Promise<string> {
  const dirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
  const kept = [];
  for (const dir of dirs) {
    try {
      await Deno.stat(`${dir}/deno`);
    } catch {
      kept.push(dir);
    }
  }
  return kept.join(":");
}

Deno.test("README's commands work as written in a fresh copy, with no deno on PATH", async () => {
  const commands = await readmePathBlock();
  const copy = await Deno.makeTempDir({ prefix: "churn-saver-readme-" });
  try {
    // The working tree's tracked files (as committed, plus uncommitted edits), as a new repository.
    const snapshot = (await run("git", ["-C", root, "stash", "create"])).text.trim() || "HEAD";
    const archive = await run("bash", [
      "-c",
      `git -C "${root}" archive ${snapshot} | tar -x -C "${copy}"`,
    ]);
    assert.equal(archive.code, 0, archive.text);
    const git = ["-c", "user.email=readme@test.invalid", "-c", "user.name=readme test"];
    for (const args of [["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]]) {
      const step = await run("git", [...git, ...args], { cwd: copy });
      assert.equal(step.code, 0, step.text);
    }

    const install = await run("bash", ["-c", "source scripts/lib/common.sh && ensure_node_packages"], {
      cwd: copy,
    });
    assert.equal(install.code, 0, install.text);

    const env: Record<string, string> = {
      HOME: Deno.env.get("HOME") ?? "/root",
      PATH: await pathWithoutDeno(),
    };
    // Deno's own cache, if the machine keeps it elsewhere: the libraries need not be fetched again.
    const denoDir = Deno.env.get("DENO_DIR");
    if (denoDir) env.DENO_DIR = denoDir;
    const before = await run("bash", ["-c", "command -v deno"], { cwd: copy, env, clearEnv: true });
    assert.notEqual(before.code, 0, `the shell must start without deno, found ${before.text}`);

    const result = await run("bash", ["-euo", "pipefail", "-c", commands], {
      cwd: copy,
      env,
      clearEnv: true,
    });
    assert.equal(result.code, 0, result.text);
    assert.match(result.text, /usage: deno task rollout <command>/);
    assert.doesNotMatch(result.text, /command not found/);
    assert.doesNotMatch(result.text, /Ignored build scripts/, "no warning about package.json's pinned CLIs");

    const status = await run("git", ["status", "--porcelain"], { cwd: copy });
    assert.equal(status.text.trim(), "", "the task changed nothing in the checkout (deno.lock included)");
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});
