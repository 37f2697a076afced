// Serves the Whop sandbox on loopback for the local stack:
//   deno run -A whop-sandbox/main.ts
// Env: WHOP_SANDBOX_PORT (54330), WHOP_API_KEY, WHOP_APP_ID, WHOP_WEBHOOK_SECRET (comma-separated, first
// signs), WHOP_WEBHOOK_TARGET_URL (default: the local functions gateway's whop-webhook), FUNCTIONS_PORT,
// WHOP_SANDBOX_PRIVATE_JWK (optional fixed ES256 key, JSON), WHOP_SANDBOX_FIXTURES (optional JSON file),
// WHOP_SANDBOX_IGNORE_IDEMPOTENCY (true: mutations ignore Idempotency-Key, as Whop may).
import type { JWK } from "jose";
import { log } from "../supabase/functions/_shared/log.ts";
import { stopOnSignal } from "../supabase/functions/_shared/shutdown.ts";
import { createSandbox } from "./app.ts";
import type { FixturesInput } from "./fixtures.ts";

function env(name: string): string | undefined {
  const value = Deno.env.get(name);
  return value === undefined || value === "" ? undefined : value;
}

const port = Number(env("WHOP_SANDBOX_PORT") ?? 54330);
const functionsPort = env("FUNCTIONS_PORT") ?? "54321";
const privateJwk = env("WHOP_SANDBOX_PRIVATE_JWK");
const fixturesFile = env("WHOP_SANDBOX_FIXTURES");

const sandbox = createSandbox({
  apiKey: env("WHOP_API_KEY"),
  appId: env("WHOP_APP_ID"),
  webhookSecret: env("WHOP_WEBHOOK_SECRET"),
  webhookTargetUrl: env("WHOP_WEBHOOK_TARGET_URL") ??
    `http://127.0.0.1:${functionsPort}/functions/v1/whop-webhook`,
  privateJwk: privateJwk ? (JSON.parse(privateJwk) as JWK) : undefined,
  ignoreIdempotencyKey: /^(1|true|yes|on)$/i.test(env("WHOP_SANDBOX_IGNORE_IDEMPOTENCY") ?? ""),
  fixtures: fixturesFile ? (JSON.parse(await Deno.readTextFile(fixturesFile)) as FixturesInput) : undefined,
});
await sandbox.ready;

const server = Deno.serve({
  port,
  hostname: "127.0.0.1",
  onListen: ({ hostname, port }) => log.info(`whop-sandbox listening on http://${hostname}:${port}`),
}, sandbox.app.fetch);

stopOnSignal(server);
