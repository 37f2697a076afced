// What a Whop REST call came to, as a value the dispatcher can act on without try/catch: success,
// rate limited (retry after N seconds), transient (retry with backoff) or permanent (do not retry).
// This file turns a raw HTTP answer (or its absence) into one of those, and says which failures
// leave it unknown whether Whop acted (outcomeUnknown): a caller must not repeat such a mutation
// blindly, since Whop's honouring of Idempotency-Key is not confirmed (WHOP.md section 2).

export type WhopCallOutcome =
  | { ok: true; status: number; body: unknown; latencyMs: number }
  | {
    ok: false;
    kind: "rate_limited";
    status: 429;
    retryAfterSeconds: number;
    message: string;
    latencyMs: number;
  }
  | {
    ok: false;
    kind: "transient";
    status: number | null;
    message: string;
    latencyMs: number;
    /** Set when the mutation certainly did not reach Whop (a read before it failed, say). */
    notSent?: true;
  }
  | { ok: false; kind: "permanent"; status: number; message: string; code: string | null; latencyMs: number };

export type WhopSuccess = Extract<WhopCallOutcome, { ok: true }>;
export type WhopFailure = Extract<WhopCallOutcome, { ok: false }>;
export type WhopPermanentFailure = Extract<WhopCallOutcome, { kind: "permanent" }>;

/** What the transport saw: an HTTP answer with its whole body, no answer in time, or no answer at all. */
export type WhopRawAnswer =
  | { kind: "answered"; status: number; headers: Headers; text: string }
  | { kind: "timeout"; timeoutMs: number }
  | { kind: "network"; error: unknown };

/** Used when a 429 says neither in a header nor in its body how long to wait. */
export const DEFAULT_RETRY_AFTER_SECONDS = 60;
const MAX_MESSAGE_CHARS = 500;

/** Client-side code for a success answer whose body is not what the call promises. */
export const UNEXPECTED_RESPONSE = "unexpected_response";
/** Client-side code for input refused before any request was made (status 0 = nothing was sent). */
export const INVALID_INPUT = "invalid_input";

/** `what` names the call in messages ("POST /notifications"), never with the base URL or key. */
export function outcomeFromAnswer(answer: WhopRawAnswer, latencyMs: number, what: string): WhopCallOutcome {
  if (answer.kind === "timeout") {
    return {
      ok: false,
      kind: "transient",
      status: null,
      message: `timeout: Whop did not answer ${what} within ${answer.timeoutMs} ms`,
      latencyMs,
    };
  }
  if (answer.kind === "network") {
    return {
      ok: false,
      kind: "transient",
      status: null,
      message: clip(`network error calling ${what}: ${errorText(answer.error)}`),
      latencyMs,
    };
  }

  const { status, headers, text } = answer;
  const json = parseJson(text);
  if (status >= 200 && status < 300) {
    if (json === INVALID_JSON) {
      return permanent(
        status,
        UNEXPECTED_RESPONSE,
        `Whop answered ${what} with a body that is not JSON`,
        latencyMs,
      );
    }
    return { ok: true, status, body: json, latencyMs };
  }

  const error = whopErrorOf(json);
  const message = clip(error.message ?? (fallbackText(text) || `Whop answered ${what} with HTTP ${status}`));
  if (status === 429) {
    return {
      ok: false,
      kind: "rate_limited",
      status: 429,
      retryAfterSeconds: retryAfterSeconds(headers.get("retry-after"), error.message),
      message,
      latencyMs,
    };
  }
  if (status >= 500) return { ok: false, kind: "transient", status, message, latencyMs };
  if (status >= 400) return permanent(status, error.code, message, latencyMs);
  // 1xx/3xx: the API never answers these (redirects are not followed, so the key stays on Whop's host).
  return permanent(
    status,
    UNEXPECTED_RESPONSE,
    `Whop answered ${what} with unexpected HTTP ${status}`,
    latencyMs,
  );
}

/**
 * Whether Whop may or may not have acted on the request: it was sent, and no answer says what
 * happened. That is a timeout, a network error (a reset after the request left looks the same as
 * one before), and any 5xx (a 503 may come from a proxy before Whop's handler ran, or after). A 429
 * or a 4xx says the request was refused, a 2xx that it took effect.
 */
export function outcomeUnknown(outcome: WhopCallOutcome): boolean {
  return !outcome.ok && outcome.kind === "transient" && outcome.notSent !== true;
}

export function permanent(
  status: number,
  code: string | null,
  message: string,
  latencyMs: number,
): WhopPermanentFailure {
  return { ok: false, kind: "permanent", status, message: clip(message), code, latencyMs };
}

/** Retry-After (delta seconds or an HTTP date) wins; else Whop's "Try again in N seconds."; else 60. */
export function retryAfterSeconds(
  header: string | null,
  bodyMessage: string | null,
  nowMs = Date.now(),
): number {
  const value = header?.trim() ?? "";
  if (/^\d+$/.test(value)) return Number(value);
  if (value !== "") {
    const at = Date.parse(value);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - nowMs) / 1000));
  }
  const said = /try again in (\d+(?:\.\d+)?) seconds?/i.exec(bodyMessage ?? "");
  if (said) return Math.ceil(Number(said[1]));
  return DEFAULT_RETRY_AFTER_SECONDS;
}

/** Replaces every occurrence of the secret: messages may quote server text or runtime errors. */
export function redactSecret<T extends WhopCallOutcome>(outcome: T, secret: string): T {
  if (outcome.ok || !secret || !outcome.message.includes(secret)) return outcome;
  return { ...outcome, message: outcome.message.split(secret).join("***") };
}

/** Whop's error bodies: `{"error":{"code","message"}}`, and `type` instead of `code` on 429s. */
function whopErrorOf(json: unknown): { code: string | null; message: string | null } {
  const error = isRecord(json) && isRecord(json.error) ? json.error : null;
  const text = (value: unknown) => (typeof value === "string" && value.trim() !== "" ? value : null);
  return {
    code: text(error?.code) ?? text(error?.type),
    message: text(error?.message),
  };
}

const INVALID_JSON = Symbol("invalid json");

function parseJson(text: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return INVALID_JSON;
  }
}

/** A short, single-line excerpt of a non-JSON error body (a proxy's HTML page, say). */
function fallbackText(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function clip(message: string): string {
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
