// The local gateway gives each function the path it sees on hosted Supabase (/<name>/...) and the
// caller's address, and knows only the folders that are functions.
import assert from "node:assert/strict";
import { createGateway, listFunctions } from "../../scripts/local/functions_gateway.ts";

async function withFunctionsDir(run: (dir: URL) => Promise<void>) {
  const path = await Deno.makeTempDir();
  const dir = new URL(`file://${path}/`);
  const echo = `export function createApp() {
    return {
      app: { fetch: async (request) => Response.json({
        method: request.method, path: new URL(request.url).pathname, search: new URL(request.url).search,
        forwardedFor: request.headers.get("x-forwarded-for"), body: await request.text() }) },
      close: async () => {},
    };
  }`;
  await Deno.mkdir(`${path}/echo`);
  await Deno.writeTextFile(`${path}/echo/app.ts`, echo);
  await Deno.mkdir(`${path}/_shared`);
  await Deno.writeTextFile(`${path}/_shared/app.ts`, echo);
  await Deno.mkdir(`${path}/not-a-function`);
  try {
    await run(dir);
  } finally {
    await Deno.remove(path, { recursive: true });
  }
}

Deno.test("only folders with an app.ts that are not shared code are functions", async () => {
  await withFunctionsDir(async (dir) => assert.deepEqual(await listFunctions(dir), ["echo"]));
});

Deno.test("requests reach the function at /<name>/... with body, query and x-forwarded-for", async () => {
  await withFunctionsDir(async (dir) => {
    const gateway = await createGateway(new Map(), dir);
    try {
      const response = await gateway.fetch(
        new Request("http://gw/functions/v1/echo/sub/path?x=1", { method: "POST", body: "raw body" }),
        "127.0.0.9",
      );
      assert.deepEqual(await response.json(), {
        method: "POST",
        path: "/echo/sub/path",
        search: "?x=1",
        forwardedFor: "127.0.0.9",
        body: "raw body",
      });
      const root = await gateway.fetch(new Request("http://gw/functions/v1/echo"));
      assert.equal((await root.json()).path, "/echo");
      const shared = await gateway.fetch(new Request("http://gw/functions/v1/_shared"));
      assert.equal(shared.status, 404);
      assert.equal((await shared.json()).error.code, "function_not_found");
    } finally {
      await gateway.close();
    }
  });
});
