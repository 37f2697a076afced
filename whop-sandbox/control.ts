// The `/_sandbox/*` control API for tests and the dev stack: call log, faults, fixtures, reset, user
// tokens, webhook sending and settings. No auth: the sandbox only ever listens on loopback.
import { Hono } from "hono";
import { z } from "zod";
import type { SandboxContext } from "./context.ts";
import { applyFixtures, fixturesSchema } from "./fixtures.ts";
import { jsonResponse, whopError } from "./http.ts";
import { loadSigningKey, mintUserToken, type SigningKey } from "./jwks.ts";
import { sendWebhook, WebhookInputError } from "./webhooks.ts";

const faultSchema = z.object({
  method: z.string().min(1).nullish(),
  path: z.string().startsWith("/"),
  status: z.number().int().min(100).max(599).nullish(),
  body: z.unknown().optional(),
  retry_after_seconds: z.number().int().min(0).nullish(),
  retry_after_header: z.boolean().optional(),
  latency_ms: z.number().int().min(0).max(600_000).nullish(),
  after_effect: z.boolean().optional(),
  times: z.number().int().min(1).nullish(),
});

const userTokenSchema = z.object({
  user_id: z.string().min(1),
  app_id: z.string().min(1).nullish(),
  expires_in_seconds: z.number().int().nullish(),
  /** No `exp` claim at all (Whop's verifiers accept such a token). */
  no_expiry: z.boolean().optional(),
  issuer: z.string().nullish(),
  /** A list gives an array `aud` (Whop's verifiers refuse it even when it holds the app id). */
  audience: z.union([z.string(), z.array(z.string().min(1)).min(1)]).nullish(),
  /** Sign with a key that is NOT in the JWKS (for signature-failure tests). */
  untrusted_key: z.boolean().optional(),
});

const webhookSchema = z.object({
  payload: z.unknown().optional(),
  type: z.string().min(1).optional(),
  data: z.unknown().optional(),
  format: z.enum(["v1", "legacy"]).optional(),
  id: z.string().min(1).optional(),
  timestamp: z.number().int().optional(),
  target_url: z.url().optional(),
  secret: z.string().min(1).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  raw_body: z.string().optional(),
  sign: z.boolean().optional(),
  timeout_ms: z.number().int().min(1).max(120_000).optional(),
  register: z.boolean().optional(),
});

const settingsSchema = z.object({
  rate_limit_per_minute: z.number().int().min(1).nullish(),
  rate_limit_retry_after_header: z.boolean().optional(),
  /** Treat every call as if it carried no Idempotency-Key (Whop documents no such feature). */
  ignore_idempotency_key: z.boolean().optional(),
});

async function readJson(
  req: Request,
): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const raw = await req.text();
  if (raw.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false, response: whopError(400, "bad_request", "The request body is not valid JSON.") };
  }
}

async function parse<S extends z.ZodType>(
  req: Request,
  schema: S,
): Promise<{ ok: true; value: z.infer<S> } | { ok: false; response: Response }> {
  const json = await readJson(req);
  if (!json.ok) return json;
  const result = schema.safeParse(json.value);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
  return { ok: false, response: whopError(422, "invalid_params", `${where}${issue.message}`) };
}

export function controlRoutes(ctx: SandboxContext, resetAll: () => void): Hono {
  const { state } = ctx;
  const app = new Hono();
  let untrustedKey: Promise<SigningKey> | null = null;

  app.get("/health", () => jsonResponse({ status: "ok" }));

  app.get("/calls", (c) => {
    const status = c.req.query("status");
    const since = c.req.query("since");
    const calls = state.calls.list({
      method: c.req.query("method") || undefined,
      path: c.req.query("path") || undefined,
      status: status ? Number(status) : undefined,
      since: since ? Number(since) : undefined,
    });
    return jsonResponse({ calls });
  });
  app.delete("/calls", () => {
    state.calls.clear();
    return jsonResponse({ cleared: true });
  });

  app.post("/faults", async (c) => {
    const parsed = await parse(c.req.raw, faultSchema);
    if (!parsed.ok) return parsed.response;
    const f = parsed.value;
    if (!f.status && !f.latency_ms) {
      return whopError(422, "invalid_params", "A fault needs a status, a latency_ms, or both.");
    }
    if (f.body !== undefined && !f.status) {
      return whopError(422, "invalid_params", "A fault with a body needs a status.");
    }
    return jsonResponse(state.faults.add({ ...f, path: f.path }), 201);
  });
  app.get("/faults", () => jsonResponse({ faults: state.faults.list() }));
  app.delete("/faults/:id", (c) => {
    const id = c.req.param("id");
    return state.faults.remove(id)
      ? jsonResponse({ deleted: id })
      : whopError(404, "not_found", `No fault ${id}`);
  });
  app.delete("/faults", () => {
    state.faults.clear();
    return jsonResponse({ cleared: true });
  });

  app.post("/fixtures", async (c) => {
    const parsed = await parse(c.req.raw, fixturesSchema);
    if (!parsed.ok) return parsed.response;
    return jsonResponse(applyFixtures(state, parsed.value));
  });
  app.post("/reset", () => {
    resetAll();
    return jsonResponse({ reset: true });
  });
  app.get("/state", () =>
    jsonResponse({
      memberships: [...state.memberships.values()],
      payments: [...state.payments.values()],
      access: [...state.access.entries()].map(([key, access_level]) => {
        const [user_id, resource_id] = key.split("|");
        return { user_id, resource_id, access_level };
      }),
      experiences: [...state.experiences.values()],
      dm_channels: [...state.channels.values()],
      messages: state.messages,
      notifications: state.notifications,
      settings: state.settings,
    }));

  app.post("/user-token", async (c) => {
    const parsed = await parse(c.req.raw, userTokenSchema);
    if (!parsed.ok) return parsed.response;
    const b = parsed.value;
    const audience = b.audience ?? b.app_id ?? ctx.appId;
    if (!audience) return whopError(422, "invalid_params", "app_id is required (no WHOP_APP_ID configured).");
    if (b.untrusted_key) untrustedKey ??= loadSigningKey();
    const key = b.untrusted_key ? await untrustedKey! : await ctx.signingKey();
    const token = await mintUserToken(key, {
      userId: b.user_id,
      audience,
      issuer: b.issuer ?? undefined,
      expiresInSeconds: b.expires_in_seconds ?? undefined,
      noExpiry: b.no_expiry,
    });
    return jsonResponse({ token, kid: key.kid });
  });

  app.post("/webhooks", async (c) => {
    const parsed = await parse(c.req.raw, webhookSchema);
    if (!parsed.ok) return parsed.response;
    try {
      const d = await sendWebhook(ctx, parsed.value);
      return jsonResponse({
        id: d.id,
        status: d.status,
        body: d.response_body,
        error: d.error,
        format: d.format,
        target_url: d.target_url,
        headers: d.request_headers,
        raw_body: d.raw_body,
        duration_ms: d.duration_ms,
      });
    } catch (e) {
      if (e instanceof WebhookInputError) return whopError(422, "invalid_params", e.message);
      throw e;
    }
  });
  app.get("/webhooks", () => jsonResponse({ deliveries: state.webhookDeliveries }));
  app.delete("/webhooks", () => {
    state.webhookDeliveries = [];
    return jsonResponse({ cleared: true });
  });

  app.get("/settings", () => jsonResponse(state.settings));
  app.put("/settings", async (c) => {
    const parsed = await parse(c.req.raw, settingsSchema);
    if (!parsed.ok) return parsed.response;
    const s = parsed.value;
    if (s.rate_limit_per_minute !== undefined) {
      state.settings.rate_limit_per_minute = s.rate_limit_per_minute;
      state.rateLimiter.clear();
    }
    if (s.rate_limit_retry_after_header !== undefined) {
      state.settings.rate_limit_retry_after_header = s.rate_limit_retry_after_header;
    }
    if (s.ignore_idempotency_key !== undefined) {
      state.settings.ignore_idempotency_key = s.ignore_idempotency_key;
    }
    return jsonResponse(state.settings);
  });

  return app;
}
