// Verification side of Whop's two webhook signature schemes (WHOP.md 1.1 and 1.2). Every header is
// untrusted input: anything unexpected becomes a failure reason, never an exception, and MACs are
// compared as decoded bytes in constant time. Several secrets may be configured so a rotation can
// overlap: a delivery passes when any well-formed signature entry matches any secret. The MAC is
// computed over the body's raw bytes, as received (a leading byte-order mark included).
import { timingSafeEqualBytes } from "../constant_time.ts";
import { decodeBase64, decodeHex } from "../crypto/encoding.ts";
import { hmacSha256, signedBytes } from "./webhook_signature.ts";

export type SignatureFailure =
  | "missing_signature"
  | "malformed_signature"
  | "stale_timestamp"
  | "bad_signature";

export type SignatureResult =
  | { ok: true; format: "v1" | "legacy"; webhookId: string | null; timestamp: number }
  | { ok: false; reason: SignatureFailure };

/** Deliveries more than this far from now, in either direction, are rejected as replays. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

// Bounds on header sizes keep parsing and HMAC work small whatever a caller sends; real headers
// are far shorter (one entry is ~50 characters, a rotation sends two).
const MAX_SIGNATURE_HEADER_LENGTH = 4096;
const MAX_WEBHOOK_ID_LENGTH = 256;
// Digits only (no sign, exponent or fraction); 15 digits stay exact as a JS number.
const UNIX_SECONDS = /^[0-9]{1,15}$/;
const HMAC_SHA256_LENGTH = 32;

/** What the headers say, checked before the body is read: which scheme, the signed prefix, the MACs. */
export interface SignatureHeaders {
  ok: true;
  format: "v1" | "legacy";
  webhookId: string | null;
  timestamp: number;
  /** What precedes the body in the signed content (`${id}.${timestamp}.` or `${t}.`), built from the
   * header text as sent: the signed string uses it verbatim. */
  signedPrefix: string;
  /** Decoded MACs from the well-formed `v1` entries (at least one). */
  candidates: Uint8Array[];
}

type Failure = { ok: false; reason: SignatureFailure };

const fail = (reason: SignatureFailure): Failure => ({ ok: false, reason });

/** Secrets from WHOP_WEBHOOK_SECRET: comma-separated, trimmed, empty entries dropped. */
export function parseWebhookSecrets(value: string): string[] {
  return value.split(",").map((secret) => secret.trim()).filter((secret) => secret.length > 0);
}

const encoder = new TextEncoder();

/** Both steps below. `body` is the request body exactly as received; a string stands for its UTF-8
 * bytes. */
export function verifyWhopSignature(
  headers: Headers,
  body: Uint8Array | string,
  secrets: string[],
  nowSeconds: number = Math.floor(Date.now() / 1000),
): SignatureResult {
  const parsed = parseSignatureHeaders(headers, nowSeconds);
  if (!parsed.ok) return parsed;
  return verifySignedBody(parsed, typeof body === "string" ? encoder.encode(body) : body, secrets);
}

/** Step 1, headers only: a request that is missing, malformed or stale fails here, before its body is
 * read. The timestamp is public, so rejecting a stale one before computing any MAC leaks nothing. */
export function parseSignatureHeaders(
  headers: Headers,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): SignatureHeaders | Failure {
  const standardHeader = headers.get("webhook-signature");
  const legacyHeader = headers.get("x-whop-signature");
  const parsed = standardHeader !== null
    ? parseStandard(standardHeader, headers)
    : legacyHeader !== null
    ? parseLegacy(legacyHeader)
    : fail("missing_signature");
  if (!parsed.ok) return parsed;
  if (Math.abs(nowSeconds - parsed.timestamp) > SIGNATURE_TOLERANCE_SECONDS) return fail("stale_timestamp");
  return parsed;
}

/** Step 2: the MAC over the signed prefix and the body's raw bytes, against every secret. */
export function verifySignedBody(
  parsed: SignatureHeaders,
  rawBody: Uint8Array,
  secrets: string[],
): SignatureResult {
  const content = signedBytes(parsed.signedPrefix, rawBody);
  if (!matchesAnySecret(content, parsed.candidates, secrets)) return fail("bad_signature");
  return { ok: true, format: parsed.format, webhookId: parsed.webhookId, timestamp: parsed.timestamp };
}

/** `webhook-signature: v1,<base64> [v1,<base64> ...]` with `webhook-id` and `webhook-timestamp`. */
function parseStandard(signature: string, headers: Headers): SignatureHeaders | Failure {
  const webhookId = headers.get("webhook-id");
  const timestampText = headers.get("webhook-timestamp");
  if (webhookId === null || timestampText === null) return fail("missing_signature");
  if (
    signature.length > MAX_SIGNATURE_HEADER_LENGTH ||
    webhookId.length === 0 || webhookId.length > MAX_WEBHOOK_ID_LENGTH ||
    !UNIX_SECONDS.test(timestampText)
  ) {
    return fail("malformed_signature");
  }

  const candidates: Uint8Array[] = [];
  for (const entry of signature.split(/[ \t]+/)) {
    const comma = entry.indexOf(",");
    // Other version tags (and tagless garbage) are skipped, as Standard Webhooks specifies.
    if (comma < 0 || entry.slice(0, comma) !== "v1") continue;
    const mac = decodeBase64(entry.slice(comma + 1));
    if (mac?.length === HMAC_SHA256_LENGTH) candidates.push(mac);
  }
  if (candidates.length === 0) return fail("malformed_signature");

  return {
    ok: true,
    format: "v1",
    webhookId,
    timestamp: Number(timestampText),
    signedPrefix: `${webhookId}.${timestampText}.`,
    candidates,
  };
}

/** `x-whop-signature: t=<unix>,v1=<hex>[,v1=<hex> ...]`. */
function parseLegacy(header: string): SignatureHeaders | Failure {
  if (header.length > MAX_SIGNATURE_HEADER_LENGTH) return fail("malformed_signature");

  let timestampText: string | null = null;
  const candidates: Uint8Array[] = [];
  for (const part of header.split(",")) {
    const item = part.trim();
    const equals = item.indexOf("=");
    if (equals <= 0) return fail("malformed_signature");
    const key = item.slice(0, equals);
    const value = item.slice(equals + 1);
    if (key === "t") {
      // Two timestamps would make it ambiguous which one was signed.
      if (timestampText !== null || !UNIX_SECONDS.test(value)) return fail("malformed_signature");
      timestampText = value;
    } else if (key === "v1") {
      const mac = decodeHex(value);
      if (mac?.length === HMAC_SHA256_LENGTH) candidates.push(mac);
    }
    // Other keys (future scheme versions) are ignored.
  }
  if (timestampText === null || candidates.length === 0) return fail("malformed_signature");

  return {
    ok: true,
    format: "legacy",
    webhookId: null,
    timestamp: Number(timestampText),
    signedPrefix: `${timestampText}.`,
    candidates,
  };
}

function matchesAnySecret(
  content: Uint8Array<ArrayBuffer>,
  candidates: Uint8Array[],
  secrets: string[],
): boolean {
  let matched = false;
  for (const secret of secrets) {
    // An empty secret would be a key anyone knows; it must never verify anything.
    if (secret.length === 0) continue;
    const expected = hmacSha256(secret, content);
    // No early exit: every comparison runs, so timing does not reveal which entry or secret matched.
    for (const candidate of candidates) matched = timingSafeEqualBytes(candidate, expected) || matched;
  }
  return matched;
}
