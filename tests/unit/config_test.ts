import assert from "node:assert/strict";
import { ConfigError, readAppEnv, readPort, requireEnv } from "../../supabase/functions/_shared/config.ts";
import { createApp as createWebhookApp } from "../../supabase/functions/whop-webhook/app.ts";
import { createApp as createDispatchApp } from "../../supabase/functions/dispatch-notifications/app.ts";
import { createApp as createDashboardApp } from "../../web/app.ts";

const env = (values: Record<string, string>) => new Map(Object.entries(values));
const TEST_KEYS = `k1:${btoa(String.fromCharCode(...new Uint8Array(32).fill(1)))}`;

Deno.test("requireEnv names every missing variable at once", () => {
  assert.throws(
    () => requireEnv(env({ A: "1", B: "  " }), ["A", "B", "C"]),
    (error: unknown) =>
      error instanceof ConfigError && /B, C/.test(error.message) && !/\bA\b,/.test(error.message),
  );
  assert.deepEqual(requireEnv(env({ A: " 1 " }), ["A"]), { A: "1" });
});

Deno.test("APP_ENV defaults to production and refuses anything but local|production", () => {
  assert.equal(readAppEnv(env({})), "production");
  assert.equal(readAppEnv(env({ APP_ENV: "local" })), "local");
  assert.throws(() => readAppEnv(env({ APP_ENV: "dev" })), /APP_ENV must be "local" or "production"/);
});

Deno.test("ports are validated", () => {
  assert.equal(readPort(env({}), "P", 8000), 8000);
  assert.equal(readPort(env({ P: "54321" }), "P", 8000), 54321);
  assert.throws(() => readPort(env({ P: "http" }), "P", 8000), /P must be a TCP port/);
  assert.throws(() => readPort(env({ P: "70000" }), "P", 8000), /P must be a TCP port/);
});

Deno.test("each server refuses to start without its configuration and names what is missing", async () => {
  await assert.rejects(
    () => createWebhookApp(env({})),
    /SUPABASE_DB_URL, WHOP_WEBHOOK_SECRET, ENCRYPTION_KEYS/,
  );
  await assert.rejects(
    () =>
      createWebhookApp(
        env({ SUPABASE_DB_URL: "postgres://x", WHOP_WEBHOOK_SECRET: "ws_1", ENCRYPTION_KEYS: "k1:short" }),
      ),
    /ENCRYPTION_KEYS/,
  );
  await assert.rejects(
    () => createDispatchApp(env({ SUPABASE_DB_URL: "postgres://x" })),
    /Missing required configuration: CRON_SECRET, WHOP_API_KEY, WHOP_API_BASE_URL, ENCRYPTION_KEYS, LINK_SIGNING_KEY, DASHBOARD_URL/,
  );
  await assert.rejects(
    () => createDashboardApp(env({})),
    /Missing required configuration: DATABASE_URL, LINK_SIGNING_KEY, WHOP_JWKS_URL/,
  );
  await assert.rejects(
    () =>
      createDashboardApp(env({
        DATABASE_URL: "postgres://x",
        APP_ENV: "staging",
        LINK_SIGNING_KEY: "k",
        WHOP_JWKS_URL: "http://x/jwks",
        WHOP_APP_ID: "app_x",
        WHOP_API_KEY: "key",
        WHOP_API_BASE_URL: "http://x/api/v1",
        ENCRYPTION_KEYS: TEST_KEYS,
        OPS_TOKEN: "0123456789abcdef",
      })),
    /APP_ENV/,
  );
});
