// Tokens of tracked recovery links (ARCHITECTURE section 5): the dispatcher puts
// `<dashboard>/r/<token>` in a nudge, the dashboard verifies the token, records the click and
// redirects. A token is `base64url(payload) + "." + base64url(mac)`, where
//   payload = version (1 byte, 0x01) | case uuid (16 bytes) | expiry (uint32 unix seconds)
//             | job id (uint64, only when there is one)
//   mac     = HMAC-SHA256(UTF-8 bytes of LINK_SIGNING_KEY, payload), first 16 bytes.
// Binary keeps the URL short (62 characters with a job id) so it survives SMS-style line wrapping.
// The version byte also keeps this MAC apart from the IP hashes keyed with the same secret, whose
// inputs are printable text.
import { timingSafeEqualBytes } from "./constant_time.ts";
import { decodeBase64Url, encodeBase64Url } from "./crypto/encoding.ts";
import { hmacSha256Bytes } from "./crypto/primitives.ts";

export interface RecoveryLinkClaims {
  /** The recovery case (uuid; verification returns it in lowercase). */
  caseId: string;
  /** The nudge job that carried the link, when there was one. */
  jobId: number | null;
  /** Unix seconds; the link is valid while `now < expiresAt`. */
  expiresAt: number;
}

export type RecoveryLinkCheck =
  | { ok: true; claims: RecoveryLinkClaims }
  | { ok: false; reason: "malformed" | "bad_signature" | "expired" };

export const RECOVERY_LINK_TTL_SECONDS = 30 * 24 * 3600;

const VERSION = 0x01;
const MAC_BYTES = 16;
const PAYLOAD_BYTES_WITHOUT_JOB = 1 + 16 + 4;
const PAYLOAD_BYTES_WITH_JOB = PAYLOAD_BYTES_WITHOUT_JOB + 8;
/** Longer than any token we issue, so junk is refused before it is decoded. */
const MAX_TOKEN_LENGTH = 128;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_UINT32 = 0xffff_ffff;

/** Signs `claims`. Throws on claims no token can hold (a programming error, not input). */
export function createRecoveryLinkToken(claims: RecoveryLinkClaims, key: string): string {
  if (key.length === 0) throw new Error("LINK_SIGNING_KEY is empty.");
  const payload = encodePayload(claims);
  return `${encodeBase64Url(payload)}.${encodeBase64Url(mac(key, payload))}`;
}

/** Checks a token from a URL. Never throws: anything unexpected is a failed check. The signature is
 * checked before the expiry, so a forged token is `bad_signature` whatever its claimed expiry. */
export function verifyRecoveryLinkToken(
  token: string,
  key: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): RecoveryLinkCheck {
  try {
    if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) return fail("malformed");
    const parts = token.split(".");
    if (parts.length !== 2) return fail("malformed");
    const payload = decodeBase64Url(parts[0]);
    const givenMac = decodeBase64Url(parts[1]);
    if (!payload || !givenMac || givenMac.length !== MAC_BYTES) return fail("malformed");
    if (payload.length !== PAYLOAD_BYTES_WITHOUT_JOB && payload.length !== PAYLOAD_BYTES_WITH_JOB) {
      return fail("malformed");
    }
    if (payload[0] !== VERSION) return fail("malformed");
    if (typeof key !== "string" || key.length === 0) return fail("bad_signature");
    if (!timingSafeEqualBytes(mac(key, payload), givenMac)) return fail("bad_signature");

    const claims = decodePayload(payload);
    if (!claims) return fail("malformed");
    if (!(nowSeconds < claims.expiresAt)) return fail("expired");
    return { ok: true, claims };
  } catch {
    // Nothing above is expected to throw; if the crypto layer does, the token is not trusted.
    return fail("bad_signature");
  }
}

/** `<baseUrl>/r/<token>`; `baseUrl` is the dashboard's public origin, optionally with a path. */
export function recoveryLinkUrl(baseUrl: string, token: string): string {
  const url = new URL(baseUrl);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new Error(`The dashboard URL must be http(s), not "${url.protocol}".`);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/r/${encodeURIComponent(token)}`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

function fail(reason: "malformed" | "bad_signature" | "expired"): RecoveryLinkCheck {
  return { ok: false, reason };
}

function mac(key: string, payload: Uint8Array): Uint8Array {
  return hmacSha256Bytes(key, payload).subarray(0, MAC_BYTES);
}

function encodePayload(claims: RecoveryLinkClaims): Uint8Array<ArrayBuffer> {
  if (!UUID.test(claims.caseId)) throw new RangeError(`caseId must be a uuid, not "${claims.caseId}".`);
  if (!Number.isInteger(claims.expiresAt) || claims.expiresAt < 0 || claims.expiresAt > MAX_UINT32) {
    throw new RangeError(`expiresAt must be whole unix seconds, not ${claims.expiresAt}.`);
  }
  const { jobId } = claims;
  if (jobId !== null && (!Number.isSafeInteger(jobId) || jobId < 1)) {
    throw new RangeError(`jobId must be a positive whole number or null, not ${jobId}.`);
  }
  const payload = new Uint8Array(jobId === null ? PAYLOAD_BYTES_WITHOUT_JOB : PAYLOAD_BYTES_WITH_JOB);
  const view = new DataView(payload.buffer);
  payload[0] = VERSION;
  const hex = claims.caseId.replaceAll("-", "");
  for (let i = 0; i < 16; i++) payload[1 + i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  view.setUint32(17, claims.expiresAt);
  if (jobId !== null) view.setBigUint64(21, BigInt(jobId));
  return payload;
}

function decodePayload(payload: Uint8Array<ArrayBuffer>): RecoveryLinkClaims | null {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let hex = "";
  for (let i = 1; i <= 16; i++) hex += payload[i].toString(16).padStart(2, "0");
  const caseId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
  const expiresAt = view.getUint32(17);
  let jobId: number | null = null;
  if (payload.length === PAYLOAD_BYTES_WITH_JOB) {
    const raw = view.getBigUint64(21);
    if (raw < 1n || raw > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    jobId = Number(raw);
  }
  return { caseId, jobId, expiresAt };
}
