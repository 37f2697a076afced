// The synchronous primitives against WebCrypto and the platform's own encoders as oracles, on random
// keys and inputs of every length that matters (empty, under and over a block, unaligned views).
import assert from "node:assert/strict";
import {
  aesGcmOpen,
  aesGcmSeal,
  base64,
  base64Url,
  hex,
  hkdfSha256,
  hmacSha256Bytes,
  secretKey,
  sha256Bytes,
} from "../../supabase/functions/_shared/crypto/primitives.ts";

const LENGTHS = [0, 1, 15, 16, 17, 63, 64, 65, 1000, 3700];
const random = (length: number) => crypto.getRandomValues(new Uint8Array(length));
/** The same bytes as a view that does not start at its buffer's beginning. */
const unaligned = (bytes: Uint8Array) => {
  const buffer = new Uint8Array(bytes.length + 3);
  buffer.set(bytes, 3);
  return buffer.subarray(3);
};

Deno.test("hmacSha256Bytes equals WebCrypto's HMAC-SHA256, with key objects and string keys", async () => {
  for (const length of LENGTHS) {
    const keyBytes = random(32);
    const message = random(length);
    const webKey = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    const expected = new Uint8Array(await crypto.subtle.sign("HMAC", webKey, message));
    assert.deepEqual(hmacSha256Bytes(secretKey(keyBytes), message), expected, `length ${length}`);
    assert.deepEqual(hmacSha256Bytes(secretKey(keyBytes), unaligned(message)), expected);
  }
  const textKey = "ws_ünïcode-secret";
  const webKey = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(textKey),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const expected = new Uint8Array(
    await crypto.subtle.sign("HMAC", webKey, new TextEncoder().encode("a.1.é")),
  );
  assert.deepEqual(
    hmacSha256Bytes(textKey, "a.1.é"),
    expected,
    "a string key and message are their UTF-8 bytes",
  );
});

Deno.test("aesGcmSeal and WebCrypto's AES-GCM open each other's output; a changed byte fails", async () => {
  for (const length of LENGTHS) {
    const keyBytes = random(32);
    const iv = random(12);
    const aad = random(length % 40);
    const plaintext = random(length);
    const webKey = await crypto.subtle.importKey("raw", keyBytes, "AES-GCM", false, ["encrypt", "decrypt"]);
    const key = secretKey(keyBytes);
    const ours = aesGcmSeal(key, iv, aad, unaligned(plaintext));
    const theirs = new Uint8Array(
      await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, webKey, plaintext),
    );
    assert.deepEqual(new Uint8Array(ours), theirs, `length ${length}`);
    assert.deepEqual(new Uint8Array(aesGcmOpen(key, iv, aad, unaligned(theirs))), plaintext);
    for (const at of [0, theirs.length - 1]) {
      const altered = theirs.slice();
      altered[at] ^= 1;
      assert.throws(() => aesGcmOpen(key, iv, aad, altered), `byte ${at} altered, length ${length}`);
    }
    assert.throws(() => aesGcmOpen(key, iv, new Uint8Array([...aad, 0]), theirs), "another AAD");
  }
  assert.throws(
    () => aesGcmOpen(secretKey(random(32)), random(12), new Uint8Array(0), random(15)),
    RangeError,
  );
});

Deno.test("hkdfSha256 and sha256Bytes equal WebCrypto's", async () => {
  const root = random(32);
  const webRoot = await crypto.subtle.importKey("raw", root, "HKDF", false, ["deriveBits"]);
  const info = "churn-saver/test/v1";
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(info) },
    webRoot,
    256,
  );
  assert.deepEqual(hkdfSha256(root, info, 32), new Uint8Array(bits));
  for (const length of LENGTHS) {
    const message = random(length);
    assert.deepEqual(sha256Bytes(message), new Uint8Array(await crypto.subtle.digest("SHA-256", message)));
  }
});

Deno.test("base64, base64Url and hex equal the platform's encoders, on unaligned views too", () => {
  for (const length of LENGTHS) {
    const bytes = random(length);
    const standard = btoa(String.fromCharCode(...bytes));
    for (const view of [bytes, unaligned(bytes)]) {
      assert.equal(base64(view), standard);
      assert.equal(base64Url(view), standard.replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_"));
      assert.equal(hex(view), [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join(""));
    }
  }
});
