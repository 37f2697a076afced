// With its database stopped, the function answers 503 (with Retry-After) within 5 seconds, so Whop
// retries; once the database is back, the same delivery is stored. Uses a cluster of its own.
import assert from "node:assert/strict";
import { paymentEvent } from "../../whop-sandbox/payloads.ts";
import { freePort, isRoot } from "../support/dev_script.ts";
import { signedRequest, webhookEnv } from "../support/webhooks.ts";
import { createApp } from "../../supabase/functions/whop-webhook/app.ts";

const root = new URL("../../", import.meta.url).pathname;

async function cluster(command: string, dir: string, port: number) {
  const output = await new Deno.Command("bash", {
    args: ["-c", `source scripts/lib/common.sh && ${command}`],
    cwd: root,
    env: {
      CLUSTER_DIR: dir,
      CLUSTER_PORT: String(port),
      CLUSTER_URL: `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
}

Deno.test({
  name: "database stopped: 503 within 5 s; after a restart the delivery is stored",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "churn-saver-dbdown-" });
    if (isRoot) await Deno.chmod(dir, 0o755);
    const port = freePort();
    const url = `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
    await cluster(
      `cluster_init "$CLUSTER_DIR/pg" test && cluster_start "$CLUSTER_DIR/pg" "$CLUSTER_PORT" && apply_schema "$CLUSTER_URL"`,
      dir,
      port,
    );
    const { app, close } = await createApp(webhookEnv({ SUPABASE_DB_URL: url }));
    try {
      const payload = paymentEvent("payment.failed", { companyId: "biz_dbdown", membershipId: "mem_dbdown" });
      assert.equal((await app.fetch(await signedRequest(payload))).status, 200);

      await cluster(`cluster_stop "$CLUSTER_DIR/pg"`, dir, port);
      const retry = paymentEvent("payment.failed", { companyId: "biz_dbdown", membershipId: "mem_dbdown2" });
      const started = performance.now();
      const down = await app.fetch(await signedRequest(retry));
      const seconds = (performance.now() - started) / 1000;
      assert.equal(down.status, 503);
      assert.ok(down.headers.get("retry-after"));
      assert.equal((await down.json()).error.code, "service_unavailable");
      assert.ok(seconds < 5, `answered in ${seconds.toFixed(2)} s`);

      await cluster(`cluster_start "$CLUSTER_DIR/pg" "$CLUSTER_PORT"`, dir, port);
      const again = await app.fetch(await signedRequest(retry));
      assert.equal(again.status, 200, "Whop's retry is stored once the database is back");
      assert.equal((await again.json()).status, "stored");
    } finally {
      await close();
      await cluster(`cluster_stop "$CLUSTER_DIR/pg"`, dir, port);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
