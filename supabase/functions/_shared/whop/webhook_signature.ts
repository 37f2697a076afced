// Signing side of Whop's two webhook signature schemes, on the project's synchronous primitives so
// the same code runs in edge functions, the dashboard, the Whop sandbox and tests. Verification lives
// elsewhere and reuses the HMAC and encoding helpers exported here, so both sides compute exactly the
// same bytes.
import { base64 as toBase64, hex as toHex, hmacSha256Bytes } from "../crypto/primitives.ts";

export { toBase64, toHex };

const encoder = new TextEncoder();

/** HMAC-SHA256 of `message` (a string stands for its UTF-8 bytes), keyed with the raw UTF-8 bytes of
 * `keyString` (Whop's convention: the whole secret, `ws_` prefix included, is the key; it is NOT
 * base64-decoded). */
export function hmacSha256(keyString: string, message: string | Uint8Array): Uint8Array {
  return hmacSha256Bytes(keyString, message);
}

/** The string Standard Webhooks signs: `${webhook-id}.${webhook-timestamp}.${rawBody}`. */
export function standardSignedContent(id: string, timestamp: number | string, body: string): string {
  return `${id}.${timestamp}.${body}`;
}

/** The string the legacy `x-whop-signature` scheme signs: `${t}.${rawBody}`. */
export function legacySignedContent(timestamp: number | string, body: string): string {
  return `${timestamp}.${body}`;
}

/** What a verifier MACs: the scheme's text prefix (`${id}.${timestamp}.` or `${t}.`) followed by the
 * body exactly as it arrived. The body stays bytes: decoding it first would drop a byte-order mark
 * or replace invalid UTF-8, and the MAC would no longer be over what the sender signed. */
export function signedBytes(prefix: string, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const head = encoder.encode(prefix);
  const bytes = new Uint8Array(head.byteLength + body.byteLength);
  bytes.set(head, 0);
  bytes.set(body, head.byteLength);
  return bytes;
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
export function signStandardWebhook(input: StandardSignInput): string {
  const mac = hmacSha256(input.secret, standardSignedContent(input.id, input.timestamp, input.body));
  return `v1,${toBase64(mac)}`;
}

export interface LegacySignInput {
  secret: string;
  /** Unix seconds. */
  timestamp: number | string;
  body: string;
}

/** Value for the legacy `x-whop-signature` header: `t=<unix>,v1=<hex HMAC-SHA256>`. */
export function signLegacyWebhook(input: LegacySignInput): string {
  const mac = hmacSha256(input.secret, legacySignedContent(input.timestamp, input.body));
  return `t=${input.timestamp},v1=${toHex(mac)}`;
}
