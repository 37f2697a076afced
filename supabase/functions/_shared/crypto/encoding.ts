// Strict decoders for untrusted text (signature headers, envelopes, configured keys). They return
// null instead of throwing, accept only the canonical encoding (padding and trailing bits exactly as
// an encoder writes them), and never skip whitespace the way `atob` does, so one byte string has
// exactly one accepted spelling.
import { base64 as toBase64, base64Url } from "./primitives.ts";

/** Unpadded base64url (RFC 4648 section 5), safe inside dotted envelopes and URLs. */
export { base64Url as encodeBase64Url } from "./primitives.ts";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

function binaryToBytes(binary: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Standard base64 with `=` padding (what Standard Webhooks and `openssl rand -base64` write). */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (!BASE64.test(text)) return null;
  const bytes = binaryToBytes(atob(text));
  return toBase64(bytes) === text ? bytes : null;
}

export function decodeBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return null;
  const standard = text.replaceAll("-", "+").replaceAll("_", "/");
  const bytes = binaryToBytes(atob(standard.padEnd(Math.ceil(text.length / 4) * 4, "=")));
  return base64Url(bytes) === text ? bytes : null;
}

/** Hex of either case. */
export function decodeHex(text: string): Uint8Array<ArrayBuffer> | null {
  if (!HEX.test(text)) return null;
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
