// The versioned key ring behind field encryption (ARCHITECTURE section 8, ENCRYPTION_KEYS). Each
// 32-byte root key is only ever used as HKDF input: one derived key encrypts, another computes blind
// indexes, so no key serves two purposes. Derived keys live only in key objects (never serialised or
// printed), and the decoded root and derived bytes are wiped after import. Error messages never
// contain key material, and there is no fallback: a missing or bad ENCRYPTION_KEYS stops the process
// at start.
import { ConfigError } from "../config.ts";
import { decodeBase64 } from "./encoding.ts";
import { hkdfSha256, type SecretKey, secretKey } from "./primitives.ts";

export interface RingKey {
  /** AES-256-GCM key for field envelopes. */
  encryption: SecretKey;
  /** HMAC-SHA256 key for the email blind index. */
  blindIndex: SecretKey;
}

export interface KeyRing {
  /** The key new envelopes and blind indexes use: the first entry of ENCRYPTION_KEYS. */
  currentKeyId: string;
  /** Every key id, current first, in ENCRYPTION_KEYS order. */
  keyIds: string[];
  /** Derived keys by key id. */
  keys: ReadonlyMap<string, RingKey>;
}

/** Key ids appear inside envelopes and blind indexes, so they may not contain the `.` separator. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

const ROOT_KEY_LENGTH = 32;
const DERIVED_KEY_LENGTH = 32;
// Distinct HKDF `info` strings are what separate the two purposes; changing them orphans all data.
const ENCRYPTION_INFO = "churn-saver/pii/field-encryption/aes-256-gcm/v1";
const BLIND_INDEX_INFO = "churn-saver/pii/email-blind-index/hmac-sha256/v1";

function keyRingError(problem: string): ConfigError {
  return new ConfigError(
    `ENCRYPTION_KEYS ${problem}. It must be comma-separated "<id>:<key>" entries, newest first ` +
      `(the first encrypts, all decrypt); an id is 1-32 letters, digits, "_" or "-", and a key is the ` +
      `base64 of 32 random bytes. Make a key with \`openssl rand -base64 32\` and set ` +
      `ENCRYPTION_KEYS="k1:<that output>"; to rotate, put a new "k2:<key>," entry first and keep k1.`,
  );
}

/** ENCRYPTION_KEYS = "k2:<base64 of 32 random bytes>,k1:<base64>" — first key encrypts, all decrypt. */
export function loadKeyRing(value: string | undefined): KeyRing {
  const entries = (value ?? "").split(",").map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  if (entries.length === 0) throw keyRingError("is missing or empty");

  // Validate everything before importing anything, so the first error is reported whatever its position.
  const roots: { id: string; bytes: Uint8Array<ArrayBuffer> }[] = [];
  for (const [index, entry] of entries.entries()) {
    const where = `entry ${index + 1} of ${entries.length}`;
    const colon = entry.indexOf(":");
    if (colon < 0) throw keyRingError(`${where} has no "<id>:" prefix`);
    // An id that fails validation is not echoed: it may be a pasted key.
    const id = entry.slice(0, colon).trim();
    if (!KEY_ID_PATTERN.test(id)) throw keyRingError(`${where} has an invalid key id`);
    if (roots.some((root) => root.id === id)) throw keyRingError(`has the key id "${id}" more than once`);
    const encoded = entry.slice(colon + 1).trim();
    if (encoded.length === 0) throw keyRingError(`key "${id}" is empty`);
    const bytes = decodeBase64(encoded);
    if (bytes === null) throw keyRingError(`key "${id}" is not valid base64`);
    if (bytes.length !== ROOT_KEY_LENGTH) {
      throw keyRingError(`key "${id}" decodes to ${bytes.length} bytes instead of ${ROOT_KEY_LENGTH}`);
    }
    roots.push({ id, bytes });
  }

  const keys = new Map<string, RingKey>();
  try {
    for (const { id, bytes } of roots) keys.set(id, deriveRingKey(bytes));
  } finally {
    for (const { bytes } of roots) bytes.fill(0);
  }
  const keyIds = roots.map((root) => root.id);
  return Object.freeze({ currentKeyId: keyIds[0], keyIds: Object.freeze(keyIds) as string[], keys });
}

// The same bytes WebCrypto's HKDF deriveKey gives for a 256-bit AES-GCM or HMAC key
// (tests/unit/pii_crypto_test.ts checks it), so data written before stays readable.
function deriveRingKey(rootBytes: Uint8Array<ArrayBuffer>): RingKey {
  // The root keys are uniformly random, so HKDF needs no salt (RFC 5869 section 3.1).
  const derive = (info: string) => {
    const bytes = hkdfSha256(rootBytes, info, DERIVED_KEY_LENGTH);
    try {
      return secretKey(bytes);
    } finally {
      bytes.fill(0);
    }
  };
  return { encryption: derive(ENCRYPTION_INFO), blindIndex: derive(BLIND_INDEX_INFO) };
}
