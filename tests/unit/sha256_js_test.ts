// The plain-TypeScript HMAC-SHA256 behind the search tokens equals WebCrypto's, for keys and messages
// of every length around the block boundaries and random ones, and the prefix MACs equal node's.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { hmacKeyState, hmacSha256Js } from "../../supabase/functions/_shared/crypto/sha256_js.ts";
import { hmacSha256Prefixes, secretKey } from "../../supabase/functions/_shared/crypto/primitives.ts";

async function webHmac(key: Uint8Array<ArrayBuffer>, message: Uint8Array<ArrayBuffer>) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, message));
}

const random = (length: number) => crypto.getRandomValues(new Uint8Array(length));

Deno.test("hmacSha256Js equals WebCrypto's HMAC-SHA256 around every block boundary", async () => {
  for (const keyLength of [1, 16, 32, 63, 64, 65, 100, 200]) {
    const key = random(keyLength);
    const state = hmacKeyState(key);
    for (const length of [0, 1, 31, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 300]) {
      const message = random(length);
      assert.deepEqual(
        hmacSha256Js(state, message),
        await webHmac(key, message),
        `key ${keyLength}, ${length}`,
      );
    }
  }
});

Deno.test("hmacSha256Js equals WebCrypto's over 500 random keys and messages", async () => {
  for (let i = 0; i < 500; i++) {
    const key = random(1 + Math.floor(Math.random() * 80));
    const message = random(Math.floor(Math.random() * 200));
    assert.deepEqual(hmacSha256Js(hmacKeyState(key), message), await webHmac(key, message));
  }
});

Deno.test("hmacSha256Prefixes: each prefix's MAC, as node:crypto computes it, accents and all", () => {
  const bytes = random(32);
  const key = secretKey(bytes);
  const head = "member-search\u0000biz_x\u0000";
  const parts = Array.from("zoë€𝄞ab");
  const macs = hmacSha256Prefixes(key, head, parts);
  parts.forEach((_, i) => {
    const expected = createHmac("sha256", key).update(head + parts.slice(0, i + 1).join("")).digest();
    assert.deepEqual(macs[i], new Uint8Array(expected), `prefix ${i + 1}`);
  });
});
