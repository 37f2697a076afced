// The alert notifier posts each transition (firing, then resolved) exactly once to a Slack-compatible
// webhook, here a local HTTP receiver; a refused post is posted again; no message carries a secret.
import assert from "node:assert/strict";
import { databaseTarget, opsApp, stackVar, TcpProxy } from "../support/ops.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test({
  name: "the notifier posts app_down once when it fires and once when it resolves",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const received: { text: string; keys: string[]; contentType: string | null }[] = [];
    let refuseNext = false;
    const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
      const body = await request.json();
      received.push({
        text: body.text,
        keys: Object.keys(body),
        contentType: request.headers.get("content-type"),
      });
      if (refuseNext) {
        refuseNext = false;
        return new Response("busy", { status: 500 });
      }
      return new Response("ok");
    });
    const proxy = new TcpProxy(databaseTarget());
    const app = await opsApp({
      DATABASE_URL: proxy.url(),
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${receiver.addr.port}/hooks/ops`,
      ALERT_EVALUATION_INTERVAL_SECONDS: "0.2",
    });
    const about = (state: string) => received.filter((post) => post.text.includes(`${state} app_down `));
    const waitFor = async (state: string, count: number) => {
      for (let i = 0; i < 50 && about(state).length < count; i++) await sleep(100);
    };
    try {
      await sleep(1000);
      assert.equal(about("FIRING").length, 0, "nothing about app_down while the database answers");

      refuseNext = true; // the first post is refused: the transition must be posted again
      proxy.setMode("refuse");
      await waitFor("FIRING", 2);
      await sleep(1000); // several more evaluations while it keeps firing
      assert.equal(about("FIRING").length, 2, "one refused post, one accepted, then nothing more");

      proxy.setMode("forward");
      await waitFor("RESOLVED", 1);
      await sleep(1000);
      assert.equal(about("RESOLVED").length, 1, "exactly one post when it resolves");

      const [firing] = about("FIRING");
      assert.match(firing.text, /^\[P0\] FIRING app_down \(local\): Application down/);
      for (const post of received) {
        assert.deepEqual(post.keys, ["text"]);
        assert.equal(post.contentType, "application/json");
        for (const secret of [stackVar("OPS_TOKEN"), proxy.url(), "127.0.0.1", "postgres"]) {
          assert.ok(!post.text.includes(secret), `no secret or address in: ${post.text}`);
        }
      }
    } finally {
      await app.close();
      await proxy.close();
      await receiver.shutdown();
    }
  },
});
