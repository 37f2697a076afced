import assert from "node:assert/strict";
import { ConfigError } from "../../supabase/functions/_shared/config.ts";
import {
  decryptField,
  DecryptionError,
  emailBlindIndex,
  emailBlindIndexCandidates,
  encryptField,
  loadKeyRing,
  normalizeEmail,
} from "../../supabase/functions/_shared/crypto/pii.ts";
import { toBase64 } from "../../supabase/functions/_shared/whop/webhook_signature.ts";
import {
  decodeBase64,
  decodeBase64Url,
  encodeBase64Url,
} from "../../supabase/functions/_shared/crypto/encoding.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/** What `openssl rand -base64 32` prints. */
const newKey = () => toBase64(crypto.getRandomValues(new Uint8Array(32)));
const K1 = newKey();
const K2 = newKey();
const AAD = "events:msg_test_1:user_email";
const EMAIL = "alice@example.com";

const ENVELOPE = /^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)$/;

function assertDecryptionFails(decrypt: () => unknown, reason: string, secrets: string[] = []) {
  assert.throws(decrypt, (error: unknown) => {
    assert.ok(error instanceof DecryptionError, `expected DecryptionError, got ${error}`);
    assert.equal(error.name, "DecryptionError");
    assert.equal(error.reason, reason);
    for (const secret of secrets) assert.ok(!error.message.includes(secret), "message leaks a secret");
    return true;
  });
}

Deno.test("round trip: what is encrypted decrypts with the same AAD", async () => {
  const ring = await loadKeyRing(`k1:${K1}`);
  for (
    const plaintext of [EMAIL, "", "Zoë 😀 \u0000 line\nbreak", JSON.stringify({ data: "x".repeat(10_000) })]
  ) {
    const envelope = await encryptField(ring, plaintext, AAD);
    assert.match(envelope, ENVELOPE);
    assert.equal(await decryptField(ring, envelope, AAD), plaintext);
  }
});

Deno.test("each encryption uses a fresh IV; no plaintext appears in the envelope", async () => {
  const ring = await loadKeyRing(`k1:${K1}`);
  const envelopes = await Promise.all(Array.from({ length: 50 }, () => encryptField(ring, EMAIL, AAD)));
  assert.equal(new Set(envelopes).size, envelopes.length);
  assert.equal(new Set(envelopes.map((envelope) => envelope.split(".")[2])).size, envelopes.length);
  for (const envelope of envelopes) {
    for (const leak of ["alice", "example", btoa(EMAIL).slice(0, 12), K1.slice(0, 12)]) {
      assert.ok(!envelope.includes(leak), `envelope contains ${leak}`);
    }
  }
});

Deno.test("a different AAD (another row or field) fails to decrypt, without leaking", async () => {
  const ring = await loadKeyRing(`k1:${K1}`);
  const envelope = await encryptField(ring, EMAIL, AAD);
  for (const aad of ["events:msg_test_2:user_email", "events:msg_test_1:user_name", `${AAD} `]) {
    assertDecryptionFails(() => decryptField(ring, envelope, aad), "authentication_failed", [EMAIL, K1]);
  }
});

Deno.test("an empty AAD is refused: every field must be bound to its context", async () => {
  const ring = await loadKeyRing(`k1:${K1}`);
  assert.throws(() => encryptField(ring, EMAIL, ""), TypeError);
  assert.throws(() => decryptField(ring, encryptField(ring, EMAIL, AAD), ""), TypeError);
});

Deno.test("tampered envelopes fail to decrypt", async () => {
  const ring = await loadKeyRing(`k2:${K2},k1:${K1}`);
  const envelope = await encryptField(ring, EMAIL, AAD);
  const [version, keyId, iv, sealed] = envelope.split(".");
  const flip = (text: string, index: number) =>
    text.slice(0, index) + (text[index] === "A" ? "B" : "A") + text.slice(index + 1);
  const tampered = [
    [version, keyId, iv, flip(sealed, 0)], // ciphertext
    [version, keyId, iv, flip(sealed, sealed.length - 3)], // tag
    [version, keyId, flip(iv, 0), sealed], // IV
    [version, "k1", iv, sealed], // moved to another key of the ring
    [version, keyId, iv, sealed.slice(0, -4)], // truncated
  ];
  for (const parts of tampered) {
    assertDecryptionFails(() => decryptField(ring, parts.join("."), AAD), "authentication_failed", [EMAIL]);
  }
});

Deno.test("malformed envelopes and unknown key ids fail with their own reasons", async () => {
  const ring = await loadKeyRing(`k1:${K1}`);
  const [, , iv, sealed] = (await encryptField(ring, EMAIL, AAD)).split(".");
  for (
    const envelope of [
      "",
      EMAIL,
      "v1.k1.abc",
      `v2.k1.${iv}.${sealed}`,
      `v1.k1.${iv}.${sealed}.extra`,
      `v1.bad id.${iv}.${sealed}`,
      `v1.k1.${iv}AAAA.${sealed}`, // 15-byte IV
      `v1.k1.${iv}.${sealed.slice(0, 20)}`, // shorter than a GCM tag
      `v1.k1.${iv}.${sealed}=`, // padding is not part of the format
      `v1.k1.${iv.replaceAll(/[-_]/g, "A")}+/.${sealed}`, // standard-base64 characters
    ]
  ) {
    assertDecryptionFails(() => decryptField(ring, envelope, AAD), "malformed_envelope");
  }
  assertDecryptionFails(() => decryptField(ring, `v1.k9.${iv}.${sealed}`, AAD), "unknown_key");
});

Deno.test("key rotation: old records still decrypt, new records use the new key id", async () => {
  const before = await loadKeyRing(`k1:${K1}`);
  const oldRecord = await encryptField(before, EMAIL, AAD);
  assert.equal(oldRecord.split(".")[1], "k1");

  const after = await loadKeyRing(`k2:${K2},k1:${K1}`);
  assert.equal(after.currentKeyId, "k2");
  assert.deepEqual(after.keyIds, ["k2", "k1"]);
  assert.equal(await decryptField(after, oldRecord, AAD), EMAIL);
  const newRecord = await encryptField(after, EMAIL, AAD);
  assert.equal(newRecord.split(".")[1], "k2");
  assert.equal(await decryptField(after, newRecord, AAD), EMAIL);

  // Once k1 is retired, its records report the unknown key rather than garbage.
  const retired = await loadKeyRing(`k2:${K2}`);
  assertDecryptionFails(() => decryptField(retired, oldRecord, AAD), "unknown_key", [EMAIL]);
  // The same id with a different key is not the same key.
  const impostor = await loadKeyRing(`k1:${K2}`);
  assertDecryptionFails(() => decryptField(impostor, oldRecord, AAD), "authentication_failed", [EMAIL]);
});

Deno.test("derived keys are WebCrypto's HKDF keys, one per purpose, never printed", async () => {
  const ring = loadKeyRing(`k1:${K1}`);
  const keys = ring.keys.get("k1")!;
  // WebCrypto is the oracle: the same root and info must give the same AES and HMAC keys, so what
  // was written with WebCrypto-derived keys stays readable (and the other way round).
  const root = await crypto.subtle.importKey("raw", decodeBase64(K1)!, "HKDF", false, ["deriveKey"]);
  const hkdf = (info: string) => ({
    name: "HKDF",
    hash: "SHA-256",
    salt: new Uint8Array(0),
    info: encode(info),
  });
  const webAes = await crypto.subtle.deriveKey(
    hkdf("churn-saver/pii/field-encryption/aes-256-gcm/v1"),
    root,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  const webHmac = await crypto.subtle.deriveKey(
    hkdf("churn-saver/pii/email-blind-index/hmac-sha256/v1"),
    root,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const webSealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: encode(`v1.k1.${AAD}`) },
      webAes,
      encode(EMAIL),
    ),
  );
  assert.equal(decryptField(ring, `v1.k1.${encodeBase64Url(iv)}.${encodeBase64Url(webSealed)}`, AAD), EMAIL);
  const [, , ourIv, ourSealed] = encryptField(ring, EMAIL, AAD).split(".");
  const opened = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: decodeBase64Url(ourIv)!, additionalData: encode(`v1.k1.${AAD}`) },
    webAes,
    decodeBase64Url(ourSealed)!,
  );
  assert.equal(new TextDecoder().decode(opened), EMAIL);
  const webIndex = new Uint8Array(await crypto.subtle.sign("HMAC", webHmac, encode(normalizeEmail(EMAIL))));
  assert.equal(emailBlindIndex(ring, EMAIL), `k1.${encodeBase64Url(webIndex.subarray(0, 16))}`);
  for (const printed of [JSON.stringify(ring), JSON.stringify(keys), Deno.inspect(ring, { depth: 9 })]) {
    assert.ok(!printed.includes(K1.slice(0, 12)), "the ring prints its root key");
  }
});

Deno.test("normalizeEmail: NFKC, trimmed, lowercase", () => {
  assert.equal(normalizeEmail("  Alice@Example.COM \n"), EMAIL);
  assert.equal(normalizeEmail("\uFF41lice@example.com"), EMAIL); // fullwidth a
  assert.equal(normalizeEmail(EMAIL), EMAIL);
});

Deno.test("email blind index: deterministic, normalised, keyed, and covering every key", async () => {
  const ring1 = await loadKeyRing(`k1:${K1}`);
  const ring21 = await loadKeyRing(`k2:${K2},k1:${K1}`);

  const index = await emailBlindIndex(ring1, EMAIL);
  assert.match(index, /^k1\.[A-Za-z0-9_-]{22}$/); // 16 bytes
  assert.equal(await emailBlindIndex(ring1, EMAIL), index);
  assert.equal(await emailBlindIndex(await loadKeyRing(`k1:${K1}`), EMAIL), index, "stable across loads");
  assert.equal(await emailBlindIndex(ring1, "  ALICE@example.COM "), index);
  assert.equal(await emailBlindIndex(ring1, "\uFF41lice@example.com"), index);
  assert.notEqual(await emailBlindIndex(ring1, "bob@example.com"), index);
  assert.ok(!index.includes("alice"));

  const newIndex = await emailBlindIndex(ring21, EMAIL);
  assert.match(newIndex, /^k2\./);
  assert.notEqual(newIndex.split(".")[1], index.split(".")[1], "different keys give different indexes");
  const sameIdOtherKey = await emailBlindIndex(await loadKeyRing(`k1:${K2}`), EMAIL);
  assert.notEqual(sameIdOtherKey, index);

  const candidates = await emailBlindIndexCandidates(ring21, " Alice@Example.com");
  assert.deepEqual(candidates, [newIndex, index]);
  assert.deepEqual(await emailBlindIndexCandidates(ring1, EMAIL), [index]);
});

Deno.test("the blind index key is not the encryption key (HKDF separates them)", async () => {
  // If one key served both purposes the index would equal an HMAC under the root key; it must not.
  const ring = await loadKeyRing(`k1:${K1}`);
  const rootBytes = Uint8Array.from(atob(K1), (c) => c.charCodeAt(0));
  const rootHmac = await crypto.subtle.importKey("raw", rootBytes, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const direct = new Uint8Array(await crypto.subtle.sign("HMAC", rootHmac, new TextEncoder().encode(EMAIL)));
  const index = await emailBlindIndex(ring, EMAIL);
  assert.ok(!index.endsWith(toBase64(direct.subarray(0, 16)).replace(/=+$/, "")));
});

Deno.test("loadKeyRing rejects bad ENCRYPTION_KEYS with a ConfigError that never echoes key material", () => {
  const short = toBase64(crypto.getRandomValues(new Uint8Array(16)));
  const long = toBase64(crypto.getRandomValues(new Uint8Array(33)));
  const cases: [string | undefined, RegExp][] = [
    [undefined, /missing or empty/],
    ["", /missing or empty/],
    ["  , ,", /missing or empty/],
    [K1, /entry 1 of 1 has no "<id>:" prefix/],
    [`k2:${K2},${K1}`, /entry 2 of 2 has no "<id>:" prefix/],
    [`k1:${K1},k1:${K2}`, /key id "k1" more than once/],
    [`:${K1}`, /invalid key id/],
    [`bad id:${K1}`, /invalid key id/],
    [`k.1:${K1}`, /invalid key id/],
    [`${"k".repeat(33)}:${K1}`, /invalid key id/],
    [`${K2}:${K1}`, /invalid key id/], // a pasted key where the id belongs (44 characters, too long)
    ["k1:", /key "k1" is empty/],
    [`k1:${K1.slice(0, -1)}`, /not valid base64/],
    [`k1:${K1.replaceAll("+", "-").replaceAll("/", "_")}x`, /not valid base64/],
    [`k1:not base64!!`, /not valid base64/],
    [`k1:${short}`, /decodes to 16 bytes instead of 32/],
    [`k1:${long}`, /decodes to 33 bytes instead of 32/],
    [`k2:${K2},k1:${short}`, /key "k1" decodes to 16 bytes/],
  ];
  for (const [value, problem] of cases) {
    assert.throws(() => loadKeyRing(value), (error: unknown) => {
      assert.ok(error instanceof ConfigError, `${value}: expected ConfigError, got ${error}`);
      assert.match(error.message, /ENCRYPTION_KEYS/);
      assert.match(error.message, problem);
      assert.match(error.message, /openssl rand -base64 32/);
      for (const secret of [K1, K2, short, long]) {
        for (const fragment of [secret, secret.slice(0, 10), secret.slice(-12, -2)]) {
          assert.ok(!error.message.includes(fragment), `message echoes key material for ${problem}`);
        }
      }
      return true;
    }, String(problem));
  }
});

Deno.test("loadKeyRing accepts spaces around entries and orders keys newest first", async () => {
  const ring = await loadKeyRing(` k2 : ${K2} ,\n k1:${K1} ,`);
  assert.equal(ring.currentKeyId, "k2");
  assert.deepEqual(ring.keyIds, ["k2", "k1"]);
  assert.deepEqual([...ring.keys.keys()], ["k2", "k1"]);
});
