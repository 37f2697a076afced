// The whop-webhook function's Hono app (ARCHITECTURE section 7): verify the signature on the raw
// body, validate and normalise, store with one SQL call, answer fast. 200 stored (also duplicates
// and unknown types), 401 bad/missing signature, 400 malformed, 413 too large, 429 rate limited,
// 503 when the event could not be stored (so Whop retries). Never 500 for bad input.
import { ConfigError, type EnvReader, readAppEnv } from "../_shared/config.ts";
import { loadKeyRing } from "../_shared/crypto/pii.ts";
import { createFunctionApp } from "../_shared/function_app.ts";
import { HttpError, serviceUnavailable } from "../_shared/http.ts";
import { log } from "../_shared/log.ts";
import { readBodyLimited } from "../_shared/request_body.ts";
import { EnvelopeError, normalizeWebhook } from "../_shared/whop/normalize.ts";
import { parseWebhookSecrets, verifyWhopSignature } from "../_shared/whop/verify_signature.ts";
import { createGuards, Rejection } from "./guards.ts";
import { eventRow, storeEvent } from "./store_event.ts";
import { envFlagOverride } from "../_shared/flag_env.ts";

export const FUNCTION_NAME = "whop-webhook";

function positiveInt(env: EnvReader, name: string, fallback: number): number {
  const raw = env.get(name)?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(`${name} must be a positive whole number, not "${raw}".`);
  }
  return value;
}

export async function createApp(env: EnvReader = Deno.env) {
  const { app, sql, config, close } = createFunctionApp(FUNCTION_NAME, env, [
    "WHOP_WEBHOOK_SECRET",
    "ENCRYPTION_KEYS",
  ]);
  readAppEnv(env);
  const secrets = parseWebhookSecrets(config.WHOP_WEBHOOK_SECRET);
  if (secrets.length === 0) {
    throw new ConfigError("WHOP_WEBHOOK_SECRET holds no secret (comma-separated list of ws_... values).");
  }
  const ring = await loadKeyRing(config.ENCRYPTION_KEYS);
  const maxBodyBytes = positiveInt(env, "WEBHOOK_MAX_BODY_BYTES", 256 * 1024);
  const dbTimeoutMs = positiveInt(env, "WEBHOOK_DB_TIMEOUT_MS", 4000);
  const guards = createGuards(
    sql,
    {
      perIpPerMinute: positiveInt(env, "WEBHOOK_RATE_LIMIT_PER_IP", 3000),
      perCompanyPerMinute: positiveInt(env, "WEBHOOK_RATE_LIMIT_PER_COMPANY", 1200),
    },
    secrets[0],
    dbTimeoutMs,
  );
  // An environment variable can only force processing off (ARCHITECTURE section 6).
  const processingAllowed = envFlagOverride(env, "WEBHOOK_PROCESSING_ENABLED") !== "forced_off";

  app.post("/", async (c) => {
    try {
      const ip = c.req.header("x-forwarded-for")?.split(",")[0].trim() || "unknown";
      await database(guards.limitIp(ip));

      const rawBody = await readBodyLimited(c.req.raw, maxBodyBytes).catch((error) => {
        throw error instanceof HttpError && error.status === 413
          ? new Rejection(413, "payload_too_large", error.message)
          : new Rejection(400, "malformed_json", "The body could not be read.");
      });
      const signature = await verifyWhopSignature(c.req.raw.headers, rawBody, secrets);
      if (!signature.ok) throw new Rejection(401, signature.reason, signatureMessage[signature.reason]);

      let body: unknown;
      try {
        body = JSON.parse(rawBody);
      } catch {
        throw new Rejection(400, "malformed_json", "The body is not valid JSON.");
      }
      const event = await normalizeWebhook(body, {
        format: signature.format,
        webhookId: signature.webhookId,
        rawBody,
        signedAt: signature.timestamp,
      })
        .catch((error) => {
          if (error instanceof EnvelopeError) throw new Rejection(400, "invalid_envelope", error.message);
          throw error;
        });

      await database(guards.limitCompany(event.companyId));
      const result = await database(
        storeEvent(sql, await eventRow(event, rawBody, ring), processingAllowed, dbTimeoutMs),
      );
      log.info("webhook stored", {
        id: result.id,
        status: result.status,
        type: event.type,
        company_id: event.companyId,
      });
      return c.json(result, 200);
    } catch (error) {
      if (error instanceof Rejection) await guards.recordRejection(error.reason);
      throw error;
    }
  });

  return { app, close };
}

/** A database failure becomes 503 + Retry-After (the event was not stored, Whop will retry),
 * except data the database refuses (SQLSTATE classes 22 and 23), which is bad input: 400. */
async function database<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof HttpError) throw error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && /^2[23]/.test(code)) {
      throw new Rejection(400, "invalid_envelope", `The event holds a value the database refuses (${code}).`);
    }
    log.warn("webhook not stored: database unavailable", { error });
    throw serviceUnavailable("The event could not be stored right now; retry later.");
  }
}

const signatureMessage = {
  missing_signature: "Missing webhook signature headers (webhook-id, webhook-timestamp, webhook-signature).",
  malformed_signature: "The webhook signature headers are malformed.",
  stale_timestamp: "The webhook timestamp is more than 300 seconds away from now.",
  bad_signature: "The webhook signature does not match.",
} as const;
