// Drives the whop-webhook function in-process (its real Hono app, the real test database) with
// correctly signed Whop deliveries.
import {
  signLegacyWebhook,
  signStandardWebhook,
} from "../../supabase/functions/_shared/whop/webhook_signature.ts";
import { createApp } from "../../supabase/functions/whop-webhook/app.ts";
import { connectAsOwner, stack, stackVar } from "./stack.ts";

export const webhookSecret = () => stackVar("WHOP_WEBHOOK_SECRET").split(",")[0].trim();

/** The function's configuration in tests: the stack's, with generous limits unless overridden. */
export function webhookEnv(overrides: Record<string, string> = {}) {
  return new Map(Object.entries({
    SUPABASE_DB_URL: stack.databaseUrl,
    WHOP_WEBHOOK_SECRET: stackVar("WHOP_WEBHOOK_SECRET"),
    ENCRYPTION_KEYS: stackVar("ENCRYPTION_KEYS"),
    APP_ENV: "local",
    WEBHOOK_FAILED_VERIFICATIONS_PER_IP: "1000000",
    ...overrides,
  }));
}

export interface SignOptions {
  format?: "v1" | "legacy";
  id?: string;
  secret?: string;
  timestamp?: number;
  ip?: string;
}

/** A delivery as Whop sends it: the exact body bytes signed with the webhook secret. */
export async function signedRequest(body: unknown, options: SignOptions = {}): Promise<Request> {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const secret = options.secret ?? webhookSecret();
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers = new Headers({
    "content-type": "application/json",
    "x-forwarded-for": options.ip ?? "127.0.0.1",
  });
  if (options.format === "legacy") {
    headers.set("x-whop-signature", await signLegacyWebhook({ secret, timestamp, body: raw }));
  } else {
    const id = options.id ?? (body as { id?: string })?.id ??
      `msg_${crypto.randomUUID().replaceAll("-", "")}`;
    headers.set("webhook-id", id);
    headers.set("webhook-timestamp", String(timestamp));
    headers.set("webhook-signature", await signStandardWebhook({ secret, id, timestamp, body: raw }));
  }
  return new Request("http://functions/whop-webhook", { method: "POST", headers, body: raw });
}

/** Runs `fn` with the function's app and an owner connection to check the database. */
export async function withWebhookApp(
  fn: (ctx: {
    send: (request: Request) => Promise<{ status: number; body: Record<string, unknown> }>;
    sql: ReturnType<typeof connectAsOwner>;
  }) => Promise<void>,
  overrides: Record<string, string> = {},
) {
  const { app, close } = await createApp(webhookEnv(overrides));
  const sql = connectAsOwner();
  try {
    await fn({
      sql,
      send: async (request) => {
        const response = await app.fetch(request);
        return { status: response.status, body: await response.json() };
      },
    });
  } finally {
    await close();
    await sql.end();
  }
}

/** Sets the runtime flags a test depends on (they are global: tests run one file at a time). */
export async function setFlags(sql: ReturnType<typeof connectAsOwner>, flags: Record<string, boolean>) {
  for (const [name, enabled] of Object.entries(flags)) {
    await sql`update public.feature_flags set enabled = ${enabled}, rollout_percent = 100, company_allowlist = '{}',
              updated_by = 'test', updated_at = now() where name = ${name}`;
  }
}

/** Every flag on and no rollback: the full rollout, which end-to-end tests start from. */
export function enableEverything(sql: ReturnType<typeof connectAsOwner>) {
  return setFlags(sql, {
    WEBHOOK_PROCESSING_ENABLED: true,
    SCHEDULER_ENABLED: true,
    NOTIFICATIONS_ENABLED: true,
    ROLLBACK_MODE: false,
  });
}

export const uniqueCompany = (prefix: string) =>
  `biz_${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;

/** The whop-webhook function in a process of its own (webhook_function_server.ts) with the test
 * configuration, on real HTTP; `denoFlags` go to `deno run` (e.g. --cpu-prof). Stop it with `stop()`. */
export function startWebhookFunction(overrides: Record<string, string> = {}, denoFlags: string[] = []) {
  return startServerProcess(new URL("./webhook_function_server.ts", import.meta.url), overrides, denoFlags);
}

/** A server script that prints {"listening": port} when ready (webhook_function_server.ts, the ingest
 * benchmark's peer), run with the webhook function's environment; served at /whop-webhook. */
export async function startServerProcess(
  script: URL,
  overrides: Record<string, string> = {},
  denoFlags: string[] = [],
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", ...denoFlags, script.pathname],
    env: Object.fromEntries(webhookEnv(overrides)),
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let port: number | null = null;
  while (port === null) {
    const { done, value } = await lines.read();
    if (done) throw new Error(`${script.pathname} exited before listening`);
    text += value;
    port = Number(/\{"listening":(\d+)\}/.exec(text)?.[1] ?? Number.NaN) || null;
  }
  // Keep reading its log lines so the pipe never fills and blocks it.
  const drained = (async () => {
    while (!(await lines.read()).done) { /* discard */ }
  })();
  return {
    url: `http://127.0.0.1:${port}/whop-webhook`,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await drained;
    },
  };
}
