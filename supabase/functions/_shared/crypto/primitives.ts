// The few cryptographic primitives the project uses, synchronous, on node:crypto (Deno's and
// Supabase's edge runtime's Node compatibility layer). WebCrypto gives the same bytes, but each of its
// calls is an asynchronous op: 38-67 us for an AES-GCM seal or an HMAC in Deno 2.9 against 5-31 us
// here, and a webhook makes six of them (BENCHMARKS.md, ingest profile). The output is exactly
// WebCrypto's (tests/unit/crypto_primitives_test.ts uses WebCrypto as the oracle), so envelopes,
// blind indexes, links and signatures written before stay valid.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
} from "node:crypto";
import { Buffer } from "node:buffer";
import { type HmacKeyState, hmacKeyState, hmacSha256Js } from "./sha256_js.ts";

export type SecretKey = KeyObject;

const AES_GCM_TAG_LENGTH = 16;

/** A key object for `bytes`; the caller may wipe its copy afterwards. */
export function secretKey(bytes: Uint8Array): SecretKey {
  return createSecretKey(bytes);
}

/** HKDF-SHA256 (RFC 5869) of `root` with an empty salt, `length` bytes for `info`. */
export function hkdfSha256(root: Uint8Array, info: string, length: number): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", root, new Uint8Array(0), info, length));
}

/** HMAC-SHA256; a string key or message stands for its UTF-8 bytes. */
export function hmacSha256Bytes(key: SecretKey | string, message: string | Uint8Array): Uint8Array {
  // A copy, not the pooled Buffer node returns: callers keep it and compare it as a plain Uint8Array.
  return new Uint8Array(createHmac("sha256", key).update(message).digest());
}

const hmacStates = new WeakMap<SecretKey, HmacKeyState>();
const encoder = new TextEncoder();

/**
 * HMAC-SHA256 under `key` of `head` + parts[0], of `head` + parts[0] + parts[1], and so on: the MACs of
 * every prefix of a word, for the search tokens. In plain TypeScript with the key's pads absorbed once
 * (sha256_js.ts): through node:crypto each MAC costs ~10-30 us, and a webhook needs ~40 of them.
 */
export function hmacSha256Prefixes(key: SecretKey, head: string, parts: string[]): Uint8Array[] {
  let state = hmacStates.get(key);
  if (!state) {
    const bytes = new Uint8Array(key.export());
    state = hmacKeyState(bytes);
    bytes.fill(0);
    hmacStates.set(key, state);
  }
  // Encoded once: each prefix's message is a longer view of the same bytes.
  const headBytes = encoder.encode(head);
  const partBytes = parts.map((part) => encoder.encode(part));
  const message = new Uint8Array(headBytes.length + partBytes.reduce((sum, bytes) => sum + bytes.length, 0));
  message.set(headBytes);
  let length = headBytes.length;
  return partBytes.map((bytes) => {
    message.set(bytes, length);
    length += bytes.length;
    return hmacSha256Js(state, message.subarray(0, length));
  });
}

export function sha256Bytes(message: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(message).digest());
}

/** AES-256-GCM: ciphertext followed by its 16-byte tag, as WebCrypto's `encrypt` returns it. */
export function aesGcmSeal(
  key: SecretKey,
  iv: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: AES_GCM_TAG_LENGTH });
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Opens what `aesGcmSeal` (or WebCrypto) sealed; throws when the tag does not authenticate. */
export function aesGcmOpen(key: SecretKey, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (sealed.length < AES_GCM_TAG_LENGTH) throw new RangeError("AES-GCM input is shorter than its tag.");
  const tagAt = sealed.length - AES_GCM_TAG_LENGTH;
  const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: AES_GCM_TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(tagAt));
  return Buffer.concat([decipher.update(sealed.subarray(0, tagAt)), decipher.final()]);
}

/** Standard base64 with padding. */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Unpadded base64url (RFC 4648 section 5). */
export function base64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
