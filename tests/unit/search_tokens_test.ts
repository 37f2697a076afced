// Member search tokens: which words a text has, that each word's prefixes become tokens bound to the
// company and the field, that a typed word finds them under every key of the ring, and the bounds.
// HMAC is checked against WebCrypto (an implementation outside ours).
import assert from "node:assert/strict";
import { loadKeyRing } from "../../supabase/functions/_shared/crypto/pii.ts";
import {
  MAX_PREFIX_LENGTH,
  memberSearchTokens,
  searchWordCandidates,
  searchWords,
  tokenKeyId,
} from "../../supabase/functions/_shared/crypto/search_tokens.ts";

const key = (byte: number) => btoa(String.fromCharCode(...new Uint8Array(32).fill(byte)));

Deno.test("searchWords: accents dropped, lowercase, split on anything not a letter or digit, unique", () => {
  assert.deepEqual(searchWords("  Zoë  O'Brien-Smith "), ["zoe", "o", "brien", "smith"]);
  assert.deepEqual(searchWords("Sarah.Connor+1@Example.com"), ["sarah", "connor", "1", "example", "com"]);
  assert.deepEqual(searchWords("ＡＢＣ abc"), ["abc"], "full-width letters are the same word");
  assert.deepEqual(searchWords("@@ --"), []);
});

Deno.test("memberSearchTokens: every prefix of every word, per field, bound to the company", async () => {
  const ring = await loadKeyRing(`k1:${key(1)}`);
  const tokens = memberSearchTokens(ring, "biz_a", { name: "Ann Lee", email: null, username: "ann" })!;
  // "ann" gives a, an, ann in the name and in the username; "lee" gives l, le, lee.
  assert.equal(tokens.length, 9);
  assert.ok(tokens.every((token) => /^k1\.[nu]\.[A-Za-z0-9_-]{12}$/.test(token)), tokens.join(" "));
  assert.ok(!tokens.join(" ").toLowerCase().includes("ann"), "no word in clear");
  for (const prefix of ["a", "an", "ann", "le"]) {
    const candidates = searchWordCandidates(ring, "biz_a", prefix);
    assert.ok(candidates.some((candidate) => tokens.includes(candidate)), prefix);
  }
  assert.ok(!searchWordCandidates(ring, "biz_a", "nn").some((c) => tokens.includes(c)), "prefixes only");
  const other = memberSearchTokens(ring, "biz_b", { name: "Ann Lee" })!;
  assert.ok(!other.some((token) => tokens.includes(token)), "another company's tokens differ");
  assert.equal(memberSearchTokens(ring, "biz_a", { name: null, email: "" }), null, "nothing to index");
});

Deno.test("memberSearchTokens: the MAC is HMAC-SHA256 under the blind-index key, as WebCrypto computes it", async () => {
  const ring = await loadKeyRing(`k1:${key(7)}`);
  const [token] = memberSearchTokens(ring, "biz_a", { email: "x" })!;
  const blindIndexKey = new Uint8Array(ring.keys.get("k1")!.blindIndex.export());
  const webKey = await crypto.subtle.importKey(
    "raw",
    blindIndexKey,
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", webKey, new TextEncoder().encode("member-search\u0000biz_a\u0000x")),
  );
  const expected = btoa(String.fromCharCode(...mac.subarray(0, 9))).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
  assert.equal(token, `k1.e.${expected}`);
});

Deno.test("searchWordCandidates: every key of the ring, so a rotation keeps finding members", async () => {
  const old = await loadKeyRing(`k1:${key(1)}`);
  const rotated = await loadKeyRing(`k2:${key(2)},k1:${key(1)}`);
  const stored = memberSearchTokens(old, "biz_a", { name: "Maria" })!;
  const candidates = searchWordCandidates(rotated, "biz_a", "mar");
  assert.deepEqual([...new Set(candidates.map(tokenKeyId))], ["k2", "k1"]);
  assert.ok(candidates.some((candidate) => stored.includes(candidate)));
});

Deno.test("memberSearchTokens: long words are indexed by their first characters only", async () => {
  const ring = await loadKeyRing(`k1:${key(3)}`);
  const word = "x".repeat(60);
  const tokens = memberSearchTokens(ring, "biz_a", { username: word })!;
  assert.equal(tokens.length, MAX_PREFIX_LENGTH);
  const typed = searchWordCandidates(ring, "biz_a", word);
  assert.ok(typed.some((candidate) => tokens.includes(candidate)), "the whole word still matches");
});
