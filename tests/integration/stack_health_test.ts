// The running stack (started by scripts/test.sh) answers its health checks over real HTTP.
import assert from "node:assert/strict";
import { listFunctions } from "../../scripts/local/functions_gateway.ts";
import { getJson, stack, stackVar } from "../support/stack.ts";

Deno.test("dashboard /api/health answers 200 with the database check", async () => {
  const { status, headers, body } = await getJson(`${stack.dashboardUrl}/api/health`);
  assert.equal(status, 200);
  // Degraded (silent webhooks, a backlog left by other tests) is still up; the ops tests pin each cause.
  assert.ok(body.status === "ok" || body.status === "degraded", String(body.status));
  assert.equal((body.checks as { database: { status: string } }).database.status, "ok");
  assert.equal(headers.get("cache-control"), "no-store");
  assert.match(headers.get("content-security-policy") ?? "", /frame-ancestors 'self' https:\/\/whop\.com/);
});

Deno.test("dashboard /api/health/db reports latency and connection use", async () => {
  const { status, body } = await getJson(`${stack.dashboardUrl}/api/health/db`);
  assert.equal(status, 200);
  const connections = body.connections as { used: number; max: number; percent: number };
  assert.ok(connections.used >= 1 && connections.used <= connections.max);
  assert.equal(connections.max, 200);
  assert.equal(typeof body.latency_ms, "number");
});

Deno.test("every function answers its health check through the gateway", async () => {
  const functions = await listFunctions();
  const gateway = await getJson(`${stack.functionsUrl.replace(/\/functions\/v1$/, "")}/health`);
  assert.deepEqual(gateway.body.functions, functions);
  for (const name of functions) {
    const { status, body } = await getJson(`${stack.functionsUrl}/${name}/health`);
    assert.equal(status, 200, name);
    assert.equal(body.function, name);
    assert.equal((body.checks as { database: { status: string } }).database.status, "ok");
  }
});

Deno.test("an unknown function or route answers 404 JSON", async () => {
  const missing = await getJson(`${stack.functionsUrl}/no-such-function`);
  assert.equal(missing.status, 404);
  assert.deepEqual(Object.keys(missing.body.error as object).sort(), ["code", "message"]);
  const route = await getJson(`${stack.functionsUrl}/whop-webhook/nope`);
  assert.equal(route.status, 404);
});

Deno.test("dispatch-notifications refuses callers without the cron secret", async () => {
  const url = `${stack.functionsUrl}/dispatch-notifications`;
  for (const headers of [new Headers(), new Headers({ authorization: "Bearer wrong" })]) {
    const { status, body } = await getJson(url, { method: "POST", headers });
    assert.equal(status, 401);
    assert.equal((body.error as { code: string }).code, "unauthorized");
  }
  const allowed = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${stackVar("CRON_SECRET")}` },
  });
  await allowed.body?.cancel();
  assert.notEqual(allowed.status, 401);
});

Deno.test("the local login page exists under APP_ENV=local", async () => {
  const response = await fetch(`${stack.dashboardUrl}/dev/login`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /text\/html/);
  assert.match(await response.text(), /<h1>Local login<\/h1>/);
});
