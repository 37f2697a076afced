// A Postgres cluster of a test's own (scripts/lib/common.sh: initdb, the bootstrap and every
// migration), for tests that stop and restart their database mid-test: the stack's shared one must
// stay up for the other tests.
import assert from "node:assert/strict";
import { freePort, isRoot } from "./dev_script.ts";

const root = new URL("../../", import.meta.url).pathname;

export interface OwnCluster {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function run(command: string, dir: string, port: number, url: string) {
  const output = await new Deno.Command("bash", {
    args: ["-c", `source scripts/lib/common.sh && ${command}`],
    cwd: root,
    env: { CLUSTER_DIR: dir, CLUSTER_PORT: String(port), CLUSTER_URL: url },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
}

/** Runs `fn` with a new cluster, migrated; stops and removes it afterwards. */
export async function withOwnCluster(fn: (cluster: OwnCluster) => Promise<void>) {
  const dir = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "churn-saver-owncluster-" });
  if (isRoot) await Deno.chmod(dir, 0o755);
  const port = freePort();
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
  const cluster: OwnCluster = {
    url,
    stop: () => run(`cluster_stop "$CLUSTER_DIR/pg"`, dir, port, url),
    start: () => run(`cluster_start "$CLUSTER_DIR/pg" "$CLUSTER_PORT"`, dir, port, url),
  };
  try {
    await run(
      `cluster_init "$CLUSTER_DIR/pg" test && cluster_start "$CLUSTER_DIR/pg" "$CLUSTER_PORT" && apply_schema "$CLUSTER_URL"`,
      dir,
      port,
      url,
    );
    await fn(cluster);
  } finally {
    await cluster.stop();
    await Deno.remove(dir, { recursive: true });
  }
}
