// scripts/dev.sh as a developer runs it, on its own ports and state directory: it brings up all
// four parts with demo data, stops everything on Ctrl-C, and a second run reuses the cluster.
import assert from "node:assert/strict";
import postgres from "postgres";

const root = new URL("../../", import.meta.url).pathname;
const isRoot = Deno.uid() === 0;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function portOpen(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

class DevScript {
  output = "";
  readonly child: Deno.ChildProcess;
  readonly done: Promise<void>;

  constructor(env: Record<string, string>) {
    // Its own process group (setsid), so that a failed test can stop everything dev.sh started.
    this.child = new Deno.Command("setsid", {
      args: ["bash", "scripts/dev.sh"],
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
          `dev.sh did not print "${text}" (${exited ? "it exited" : "timeout"}):\n${this.output}`,
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
    assert.ok(status, `dev.sh did not stop within ${timeoutMs / 1000} s after Ctrl-C`);
    await this.done;
  }
}

Deno.test({
  name: "scripts/dev.sh starts the whole stack with demo data, stops on Ctrl-C, and reuses its cluster",
  sanitizeResources: false,
  async fn() {
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
    const dbUrl = `postgresql://postgres@127.0.0.1:${ports.DB_PORT}/postgres?sslmode=disable`;
    let dev: DevScript | undefined;
    let failed = false;
    try {
      dev = new DevScript(env);
      await dev.waitFor("local stack is up", 150_000);
      assert.match(dev.output, /Creating the dev Postgres cluster/);
      assert.match(dev.output, new RegExp(`http://127\\.0\\.0\\.1:${ports.DASHBOARD_PORT}/dev/login`));

      for (
        const url of [
          `http://127.0.0.1:${ports.DASHBOARD_PORT}/api/health`,
          `http://127.0.0.1:${ports.FUNCTIONS_PORT}/functions/v1/whop-webhook/health`,
          `http://127.0.0.1:${ports.FUNCTIONS_PORT}/functions/v1/dispatch-notifications/health`,
          `http://127.0.0.1:${ports.WHOP_SANDBOX_PORT}/_sandbox/health`,
        ]
      ) {
        const response = await fetch(url);
        await response.body?.cancel();
        assert.equal(response.status, 200, url);
      }
      const login = await (await fetch(`http://127.0.0.1:${ports.DASHBOARD_PORT}/dev/login`)).text();
      assert.match(login, /Demo Academy/);

      const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
      try {
        const jobs = await sql`select jobname from cron.job`;
        assert.ok(jobs.some((job) => job.jobname === "churn-saver-trim-cron-history"));
        const statuses =
          await sql`select distinct status from public.recovery_cases where company_id = 'biz_demo'`;
        assert.deepEqual(statuses.map((row) => row.status).sort(), [
          "dismissed",
          "expired",
          "lost",
          "open",
          "recovered",
        ]);
      } finally {
        await sql.end();
      }
      const secrets = await Deno.readTextFile(`${localDir}/env`);
      assert.match(secrets, /^WHOP_WEBHOOK_SECRET=ws_[0-9a-f]{64}$/m);

      await dev.interrupt();
      for (const [name, port] of Object.entries(ports)) {
        assert.equal(await portOpen(port), false, `${name} ${port} is closed after Ctrl-C`);
      }

      // Second run: same cluster, same secrets, nothing new to migrate.
      dev = new DevScript(env);
      await dev.waitFor("local stack is up", 60_000);
      assert.doesNotMatch(dev.output, /Creating the dev Postgres cluster/);
      assert.match(dev.output, /up to date/i);
      assert.equal(await Deno.readTextFile(`${localDir}/env`), secrets);
      await dev.interrupt();
      assert.equal(await portOpen(ports.DB_PORT), false);
    } catch (error) {
      failed = true;
      throw new Error(`${(error as Error).message}\n--- dev.sh output ---\n${dev?.output ?? ""}`, {
        cause: error,
      });
    } finally {
      if (dev && failed) await dev.forceStop();
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
        stdout: "null",
        stderr: "null",
      }).output();
      await Deno.remove(stateDir, { recursive: true });
      await Deno.remove(localDir, { recursive: true });
    }
  },
});
