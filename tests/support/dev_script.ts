// Drives scripts/dev.sh as a developer would, on its own ports and state directory, for the
// dev-script test and the startup benchmark.
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;
export const isRoot = Deno.uid() === 0;

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

export async function portOpen(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

export interface DevSandbox {
  env: Record<string, string>;
  ports: { DB_PORT: number; FUNCTIONS_PORT: number; DASHBOARD_PORT: number; WHOP_SANDBOX_PORT: number };
  stateDir: string;
  localDir: string;
  dbUrl: string;
  /** Stops a cluster left running and removes both directories. */
  remove(): Promise<void>;
}

/** Free ports and fresh directories, so dev.sh never touches the developer's own stack. */
export async function devSandbox(): Promise<DevSandbox> {
  // The postgres OS user runs the cluster when we are root, so its directory must be reachable.
  const stateDir = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "churn-saver-devtest-" });
  const localDir = await Deno.makeTempDir({ prefix: "churn-saver-devtest-local-" });
  if (isRoot) await Deno.chmod(stateDir, 0o755);
  const ports = {
    DB_PORT: freePort(),
    FUNCTIONS_PORT: freePort(),
    DASHBOARD_PORT: freePort(),
    WHOP_SANDBOX_PORT: freePort(),
  };
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    CHURN_SAVER_STATE_DIR: stateDir,
    CHURN_SAVER_LOCAL_DIR: localDir,
    ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
  };
  return {
    env,
    ports,
    stateDir,
    localDir,
    dbUrl: `postgresql://postgres@127.0.0.1:${ports.DB_PORT}/postgres?sslmode=disable`,
    async remove() {
      const stop = [
        "/usr/lib/postgresql/15/bin/pg_ctl",
        "-D",
        `${stateDir}/dev/data`,
        "-m",
        "immediate",
        "stop",
      ];
      await new Deno.Command(isRoot ? "runuser" : stop[0], {
        args: isRoot ? ["-u", "postgres", "--", ...stop] : stop.slice(1),
        cwd: "/",
        stdout: "null",
        stderr: "null",
      }).output();
      await Deno.remove(stateDir, { recursive: true });
      await Deno.remove(localDir, { recursive: true });
    },
  };
}

export class DevScript {
  output = "";
  readonly child: Deno.ChildProcess;
  readonly done: Promise<void>;

  /** `command` defaults to scripts/dev.sh; the stack runner (scripts/stack.ts) is driven the same way. */
  constructor(env: Record<string, string>, readonly command: string[] = ["bash", "scripts/dev.sh"]) {
    // Its own process group (setsid), so that a failed test can stop everything dev.sh started.
    this.child = new Deno.Command("setsid", {
      args: command,
      cwd: root,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.done = Promise.all([this.collect(this.child.stdout), this.collect(this.child.stderr)]).then(
      () => {},
    );
  }

  get name() {
    return this.command.find((part) => part.startsWith("scripts/")) ?? this.command.join(" ");
  }

  private async collect(stream: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.output += decoder.decode(chunk, { stream: true });
  }

  async waitFor(text: string, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    this.child.status.then(() => exited = true);
    while (!this.output.includes(text)) {
      if (exited || Date.now() > deadline) {
        throw new Error(
          `${this.name} did not print "${text}" (${exited ? "it exited" : "timeout"}):\n${this.output}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops dev.sh and everything in its process group, whatever state it is in. */
  async forceStop() {
    for (const signal of ["SIGINT", "SIGKILL"] as const) {
      try {
        Deno.kill(-this.child.pid, signal);
      } catch {
        // the group is gone
      }
      if (signal === "SIGINT") {
        await Promise.race([
          this.child.status,
          new Promise((r) => setTimeout(r, 15_000)),
        ]);
      }
    }
    await this.child.status;
    await Promise.race([this.done, new Promise((r) => setTimeout(r, 5_000))]);
  }

  async interrupt(timeoutMs = 30_000) {
    this.child.kill("SIGINT");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      this.child.status,
      new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), timeoutMs)),
    ]);
    clearTimeout(timer);
    assert.ok(status, `${this.name} did not stop within ${timeoutMs / 1000} s after Ctrl-C`);
    await this.done;
  }
}
