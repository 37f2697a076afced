// With the database unreachable, health checks say so quickly (503, JSON) without leaking the
// connection string; and development routes do not exist outside APP_ENV=local.
import assert from "node:assert/strict";
import { createApp as createDashboardApp } from "../../web/app.ts";
import { createApp as createWebhookApp } from "../../supabase/functions/whop-webhook/app.ts";
import { dashboardEnv, unreachableDatabaseUrl } from "../support/stack.ts";

const env = (values: Record<string, string>) => new Map(Object.entries(values));
const TEST_KEYS = `k1:${btoa(String.fromCharCode(...new Uint8Array(32).fill(7)))}`;

Deno.test("dashboard health answers 503 within 5 s when the database is down", async () => {
  const url = unreachableDatabaseUrl().replace("postgres@", "postgres:hunter2@");
  const { app, close } = await createDashboardApp(dashboardEnv({ DATABASE_URL: url, APP_ENV: "production" }));
  try {
    for (const path of ["/api/health", "/api/health/db"]) {
      const started = performance.now();
      const response = await app.fetch(new Request(`http://dashboard${path}`));
      const text = await response.text();
      assert.ok(performance.now() - started < 5000, `${path} answered within 5 s`);
      assert.equal(response.status, 503, path);
      assert.equal(JSON.parse(text).status, "unavailable");
      assert.ok(!text.includes("hunter2") && !text.includes("127.0.0.1"), `${path} does not leak the URL`);
    }
  } finally {
    await close();
  }
});

Deno.test("function health answers 503 when its database is down", async () => {
  const { app, close } = await createWebhookApp(
    env({
      SUPABASE_DB_URL: unreachableDatabaseUrl(),
      WHOP_WEBHOOK_SECRET: "ws_test",
      ENCRYPTION_KEYS: TEST_KEYS,
    }),
  );
  try {
    const response = await app.fetch(new Request("http://functions/whop-webhook/health"));
    assert.equal(response.status, 503);
    const body = await response.json();
    assert.equal(body.checks.database.status, "unavailable");
  } finally {
    await close();
  }
});

Deno.test("/dev/login does not exist in production", async () => {
  const { app, close } = await createDashboardApp(dashboardEnv({ APP_ENV: "production" }));
  try {
    for (const path of ["/dev/login", "/"]) {
      const response = await app.fetch(new Request(`http://dashboard${path}`));
      assert.equal(response.status, 404, path);
      assert.equal((await response.json()).error.code, "not_found");
    }
  } finally {
    await close();
  }
});
