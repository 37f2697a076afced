// The webhook sender: signs the exact bytes it sends (Standard Webhooks headers for v1,
// `x-whop-signature` for legacy) and POSTs them to the app, like Whop does. Tests can also send
// deliberately broken deliveries (stale timestamp, wrong secret, unsigned, raw bytes that are not JSON).
import type { SandboxContext } from "./context.ts";
import { registerFromWebhook } from "./fixtures.ts";
import { randomId } from "./ids.ts";
import { webhookEnvelope } from "./payloads.ts";
import type { WebhookDelivery } from "./store.ts";
import {
  signLegacyWebhook,
  signStandardWebhook,
} from "../supabase/functions/_shared/whop/webhook_signature.ts";

export interface SendWebhookInput {
  /** A complete payload (e.g. from payloads.ts). Or give `type` + `data` and the envelope is built. */
  payload?: unknown;
  type?: string;
  data?: unknown;
  format?: "v1" | "legacy";
  /** `webhook-id`; default the payload's id or a fresh `msg_...`. */
  id?: string;
  /** Unix seconds for the signature/header; default now. Use an old one to test staleness. */
  timestamp?: number;
  target_url?: string;
  /** Signing secret; default the sandbox's first configured secret. */
  secret?: string;
  /** Extra or overriding request headers. */
  headers?: Record<string, string>;
  /** Exact bytes to send instead of JSON.stringify(payload). */
  raw_body?: string;
  /** false = send without any signature header. */
  sign?: boolean;
  timeout_ms?: number;
  /** Register membership/payment objects from a v1 payload in the REST state (default true). */
  register?: boolean;
}

export class WebhookInputError extends Error {}

export async function sendWebhook(ctx: SandboxContext, input: SendWebhookInput): Promise<WebhookDelivery> {
  const format = input.format ?? detectFormat(input.payload);
  const payload = input.payload ?? buildPayload(format, input);
  const target = input.target_url ?? ctx.webhookTargetUrl;
  if (!target) throw new WebhookInputError("No target_url given and no webhook target configured.");
  const secret = input.secret ?? ctx.webhookSecrets[0];
  const sign = input.sign ?? true;
  if (sign && !secret) throw new WebhookInputError("No secret given and no webhook secret configured.");

  const payloadId = payload as { id?: unknown; data?: { id?: unknown } } | null;
  const id = input.id ??
    (typeof payloadId?.id === "string" ? payloadId.id : undefined) ??
    (format === "legacy" && typeof payloadId?.data?.id === "string" ? `${payloadId.data.id}` : undefined) ??
    randomId("msg", 24);
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  const body = input.raw_body ?? JSON.stringify(payload);

  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "Whop-Webhooks/sandbox",
  };
  if (format === "v1") {
    headers["webhook-id"] = id;
    headers["webhook-timestamp"] = String(timestamp);
    if (sign) {
      headers["webhook-signature"] = await signStandardWebhook({ secret: secret!, id, timestamp, body });
    }
  } else if (sign) {
    headers["x-whop-signature"] = await signLegacyWebhook({ secret: secret!, timestamp, body });
  }
  Object.assign(headers, input.headers ?? {});

  if (input.register ?? true) registerFromWebhook(ctx.state, payload);

  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), input.timeout_ms ?? 10_000);
  let status: number | null = null;
  let responseBody: unknown = null;
  let error: string | null = null;
  try {
    const res = await fetch(target, { method: "POST", headers, body, signal: controller.signal });
    status = res.status;
    const text = await res.text();
    try {
      responseBody = text === "" ? null : JSON.parse(text);
    } catch {
      responseBody = text;
    }
  } catch (e) {
    error = controller.signal.aborted ? "timeout" : e instanceof Error ? e.message : String(e);
  } finally {
    clearTimeout(timer);
  }

  const delivery: WebhookDelivery = {
    seq: ++ctx.state.webhookSeq,
    id,
    at: new Date().toISOString(),
    format,
    target_url: target,
    request_headers: headers,
    raw_body: body,
    status,
    response_body: responseBody,
    error,
    duration_ms: Math.round((performance.now() - started) * 10) / 10,
  };
  ctx.state.addDelivery(delivery);
  return delivery;
}

function detectFormat(payload: unknown): "v1" | "legacy" {
  if (payload && typeof payload === "object") {
    const p = payload as { api_version?: unknown; action?: unknown };
    if ((typeof p.api_version === "string" && p.api_version !== "v1") || typeof p.action === "string") {
      return "legacy";
    }
  }
  return "v1";
}

function buildPayload(format: "v1" | "legacy", input: SendWebhookInput): unknown {
  if (!input.type) throw new WebhookInputError("Give either payload, or type (+ data).");
  const data = input.data ?? {};
  if (format === "legacy") return { action: input.type, api_version: "v5", data };
  const d = data as { company?: { id?: unknown }; company_id?: unknown };
  const companyId = typeof d.company?.id === "string"
    ? d.company.id
    : typeof d.company_id === "string"
    ? d.company_id
    : null;
  return webhookEnvelope(input.type, data, companyId, { eventId: input.id });
}
