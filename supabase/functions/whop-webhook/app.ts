// The whop-webhook function's Hono app (ARCHITECTURE section 7): verify the signature on the raw
// body bytes, validate and normalise, store with one SQL call, answer fast. 200 stored (also
// duplicates and unknown types), 401 bad/missing signature, 400 malformed, 413 too large, 429 only
// for a source over its limit of failed verifications (guards.ts), 503 when the event could not be
// stored (so Whop retries). Never 500 for bad input. A delivery that verifies is never refused for rate.
import { ConfigError, type EnvReader, readAppEnv } from "../_shared/config.ts";
import { loadKeyRing } from "../_shared/crypto/pii.ts";
import { createFunctionApp } from "../_shared/function_app.ts";
import { HttpError, serviceUnavailable } from "../_shared/http.ts";
import { log } from "../_shared/log.ts";
import { decodeJsonText, readBodyLimited } from "../_shared/request_body.ts";
import { EnvelopeError, normalizeWebhook } from "../_shared/whop/normalize.ts";
import {
  parseSignatureHeaders,
  parseWebhookSecrets,
  type SignatureFailure,
  verifySignedBody,
} from "../_shared/whop/verify_signature.ts";
import { clientAddress } from "./client_address.ts";
import { createGuards, DEFAULT_FAILED_VERIFICATIONS_PER_MINUTE, Rejection } from "./guards.ts";
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
  const guards = createGuards(sql, {
    failedVerificationsPerMinute: positiveInt(
      env,
      "WEBHOOK_FAILED_VERIFICATIONS_PER_IP",
      DEFAULT_FAILED_VERIFICATIONS_PER_MINUTE,
    ),
  });
  // Replaced by the limit above; a deployment may still have them set, which must not stop it.
  for (const name of ["WEBHOOK_RATE_LIMIT_PER_IP", "WEBHOOK_RATE_LIMIT_PER_COMPANY"]) {
    if (env.get(name)?.trim()) {
      log.warn(`${name} is no longer read: signed deliveries are never rate-limited`, {
        instead: "WEBHOOK_FAILED_VERIFICATIONS_PER_IP",
      });
    }
  }
  // An environment variable can only force processing off (ARCHITECTURE section 6).
  const processingAllowed = envFlagOverride(env, "WEBHOOK_PROCESSING_ENABLED") !== "forced_off";

  app.post("/", async (c) => {
    try {
      // Verification first, on every request and before anything else is done with it: the headers
      // (a missing, malformed or stale signature fails before the body is even read), then one HMAC
      // over the body's bytes as received.
      const refuse = (reason: SignatureFailure) =>
        guards.failedVerification(clientAddress(c.req.raw.headers), reason, signatureMessage[reason]);
      const signed = parseSignatureHeaders(c.req.raw.headers);
      if (!signed.ok) {
        // Discarded unread: cheaper for the HTTP server than a body left pending, and the
        // connection stays usable.
        await c.req.raw.body?.cancel().catch(() => {});
        throw refuse(signed.reason);
      }
      const rawBody = await readBodyLimited(c.req.raw, maxBodyBytes).catch((error) => {
        throw error instanceof HttpError && error.status === 413
          ? new Rejection(413, "payload_too_large", error.message)
          : new Rejection(400, "malformed_json", "The body could not be read.");
      });
      const signature = verifySignedBody(signed, rawBody, secrets);
      if (!signature.ok) throw refuse(signature.reason);

      const text = decodeJsonText(rawBody);
      if (text === null) throw new Rejection(400, "malformed_json", "The body is not valid UTF-8.");
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Rejection(400, "malformed_json", "The body is not valid JSON.");
      }
      const event = await normalizeWebhook(body, {
        format: signature.format,
        webhookId: signature.webhookId,
        rawBody: text,
        signedAt: signature.timestamp,
      })
        .catch((error) => {
          if (error instanceof EnvelopeError) throw new Rejection(400, "invalid_envelope", error.message);
          throw error;
        });

      // The one database round trip of a delivery.
      const result = await database(
        storeEvent(sql, await eventRow(event, text, ring), processingAllowed, dbTimeoutMs),
      );
      if (result.status === "duplicate") guards.countDuplicate();
      log.info("webhook stored", {
        id: result.id,
        status: result.status,
        type: event.type,
        company_id: event.companyId,
      });
      return c.json(result, 200);
    } catch (error) {
      if (error instanceof Rejection) guards.countRejection(error.reason);
      throw error;
    }
  });

  return { app, close: () => guards.flush().then(close) };
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
