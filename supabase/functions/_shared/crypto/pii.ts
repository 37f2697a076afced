// Field encryption for member PII and raw webhook payloads (ARCHITECTURE section 5), plus a keyed
// blind index so an email can be searched for without storing it in the clear.
//
// Envelope: `v1.<keyId>.<iv base64url>.<ciphertext+tag base64url>` — AES-256-GCM with a random 96-bit
// IV per call. The caller's AAD (e.g. "events:<id>:payload") is authenticated together with the
// envelope's version and key id, so a ciphertext copied to another row or field does not decrypt.
import { decodeBase64Url, encodeBase64Url } from "./encoding.ts";
import { KEY_ID_PATTERN, type KeyRing, type RingKey } from "./key_ring.ts";
import { aesGcmOpen, aesGcmSeal, hmacSha256Bytes } from "./primitives.ts";

export { type KeyRing, loadKeyRing, type RingKey } from "./key_ring.ts";

const ENVELOPE_VERSION = "v1";
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const BLIND_INDEX_LENGTH = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export type DecryptionFailure = "malformed_envelope" | "unknown_key" | "authentication_failed";

/** A field that cannot be decrypted. The message never contains plaintext or key material. */
export class DecryptionError extends Error {
  override name = "DecryptionError";
  readonly reason: DecryptionFailure;

  constructor(reason: DecryptionFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

export function encryptField(ring: KeyRing, plaintext: string, aad: string): string {
  requireAad(aad);
  const keyId = ring.currentKeyId;
  const key = ringKey(ring, keyId);
  if (!key) throw new Error(`Key ring has no key "${keyId}" for its current key id.`);
  const iv = crypto.getRandomValues(new Uint8Array(IV_LENGTH));
  const sealed = aesGcmSeal(key.encryption, iv, boundAad(keyId, aad), encoder.encode(plaintext));
  return [ENVELOPE_VERSION, keyId, encodeBase64Url(iv), encodeBase64Url(sealed)].join(".");
}

export function decryptField(ring: KeyRing, envelope: string, aad: string): string {
  requireAad(aad);
  const parsed = parseEnvelope(envelope);
  if (!parsed) {
    throw new DecryptionError(
      "malformed_envelope",
      `Cannot decrypt field: not a "${ENVELOPE_VERSION}.<keyId>.<iv>.<ciphertext>" envelope.`,
    );
  }
  const key = ringKey(ring, parsed.keyId);
  if (!key) {
    throw new DecryptionError(
      "unknown_key",
      `Cannot decrypt field: key id "${parsed.keyId}" is not in ENCRYPTION_KEYS (was a retired key removed?).`,
    );
  }
  try {
    return decoder.decode(aesGcmOpen(key.encryption, parsed.iv, boundAad(parsed.keyId, aad), parsed.sealed));
  } catch {
    throw new DecryptionError(
      "authentication_failed",
      `Cannot decrypt field with key "${parsed.keyId}": the data was altered or belongs to another row/field (AAD mismatch).`,
    );
  }
}

/** The form emails are compared and indexed in: NFKC, trimmed, lowercase. */
export function normalizeEmail(email: string): string {
  return email.normalize("NFKC").trim().toLowerCase();
}

/** Keyed blind index of the normalised email under the current key: "<keyId>.<base64url>". */
export function emailBlindIndex(ring: KeyRing, email: string): string {
  return blindIndexUnder(ring, ring.currentKeyId, normalizeEmail(email));
}

/** The blind index under every key of the ring (for exact search across a key rotation). */
export function emailBlindIndexCandidates(ring: KeyRing, email: string): string[] {
  const normalized = normalizeEmail(email);
  return ring.keyIds.map((keyId) => blindIndexUnder(ring, keyId, normalized));
}

function blindIndexUnder(ring: KeyRing, keyId: string, normalizedEmail: string): string {
  const key = ringKey(ring, keyId);
  if (!key) throw new Error(`Key ring has no key "${keyId}".`);
  const mac = hmacSha256Bytes(key.blindIndex, normalizedEmail);
  // 128 bits keep collisions negligible while making the stored index shorter than the full MAC.
  return `${keyId}.${encodeBase64Url(mac.subarray(0, BLIND_INDEX_LENGTH))}`;
}

function ringKey(ring: KeyRing, keyId: string): RingKey | undefined {
  return ring.keys.get(keyId);
}

/** The AAD actually authenticated: envelope version and key id, then the caller's context. */
function boundAad(keyId: string, aad: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${ENVELOPE_VERSION}.${keyId}.${aad}`);
}

// An empty context would let any envelope be moved to any row, which is what AAD exists to stop.
function requireAad(aad: string): void {
  if (aad.length === 0) {
    throw new TypeError("Field encryption needs a non-empty AAD naming the row and field.");
  }
}

interface ParsedEnvelope {
  keyId: string;
  iv: Uint8Array<ArrayBuffer>;
  sealed: Uint8Array<ArrayBuffer>;
}

function parseEnvelope(envelope: string): ParsedEnvelope | null {
  const parts = envelope.split(".");
  if (parts.length !== 4 || parts[0] !== ENVELOPE_VERSION || !KEY_ID_PATTERN.test(parts[1])) return null;
  const iv = decodeBase64Url(parts[2]);
  const sealed = decodeBase64Url(parts[3]);
  if (iv?.length !== IV_LENGTH || !sealed || sealed.length < TAG_LENGTH) return null;
  return { keyId: parts[1], iv, sealed };
}
