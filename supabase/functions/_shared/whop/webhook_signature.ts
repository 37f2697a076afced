// Signing side of Whop's two webhook signature schemes, using only WebCrypto so the same code runs in
// edge functions, the dashboard, the Whop sandbox and tests. Verification lives elsewhere and reuses
// the HMAC and encoding helpers exported here, so both sides compute exactly the same bytes.

const encoder = new TextEncoder();

/** HMAC-SHA256 of `message`, keyed with the raw UTF-8 bytes of `keyString` (Whop's convention: the
 * whole secret, `ws_` prefix included, is the key; it is NOT base64-decoded). */
export async function hmacSha256(keyString: string, message: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(keyString),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** The string Standard Webhooks signs: `${webhook-id}.${webhook-timestamp}.${rawBody}`. */
export function standardSignedContent(id: string, timestamp: number | string, body: string): string {
  return `${id}.${timestamp}.${body}`;
}

/** The string the legacy `x-whop-signature` scheme signs: `${t}.${rawBody}`. */
export function legacySignedContent(timestamp: number | string, body: string): string {
  return `${timestamp}.${body}`;
}

export interface StandardSignInput {
  secret: string;
  /** The `webhook-id` header value (Whop uses the event id, `msg_...`). */
  id: string;
  /** Unix seconds, as sent in the `webhook-timestamp` header. */
  timestamp: number | string;
  /** The exact raw body bytes that go on the wire. */
  body: string;
}

/** Value for the `webhook-signature` header: `v1,<base64 HMAC-SHA256>`. */
export async function signStandardWebhook(input: StandardSignInput): Promise<string> {
  const mac = await hmacSha256(input.secret, standardSignedContent(input.id, input.timestamp, input.body));
  return `v1,${toBase64(mac)}`;
}

export interface LegacySignInput {
  secret: string;
  /** Unix seconds. */
  timestamp: number | string;
  body: string;
}

/** Value for the legacy `x-whop-signature` header: `t=<unix>,v1=<hex HMAC-SHA256>`. */
export async function signLegacyWebhook(input: LegacySignInput): Promise<string> {
  const mac = await hmacSha256(input.secret, legacySignedContent(input.timestamp, input.body));
  return `t=${input.timestamp},v1=${toHex(mac)}`;
}
