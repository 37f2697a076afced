import assert from "node:assert/strict";
import { decodeBase64Url, encodeBase64Url } from "../../supabase/functions/_shared/crypto/encoding.ts";
import {
  createRecoveryLinkToken,
  RECOVERY_LINK_TTL_SECONDS,
  type RecoveryLinkClaims,
  recoveryLinkUrl,
  verifyRecoveryLinkToken,
} from "../../supabase/functions/_shared/links.ts";

const KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const NOW = 1_800_000_000;
const claims: RecoveryLinkClaims = {
  caseId: "3f2b8c1e-9d4a-4e7b-8a6c-1b2d3e4f5a6b",
  jobId: 42,
  expiresAt: NOW + RECOVERY_LINK_TTL_SECONDS,
};

/** Flips one bit of byte `index` of a base64url part. */
function flipBit(part: string, index: number): string {
  const bytes = decodeBase64Url(part)!;
  bytes[index] ^= 0x01;
  return encodeBase64Url(bytes);
}

Deno.test("a token round-trips its claims, with and without a job", async () => {
  for (const jobId of [42, null, 1, Number.MAX_SAFE_INTEGER]) {
    const token = await createRecoveryLinkToken({ ...claims, jobId }, KEY);
    assert.deepEqual(await verifyRecoveryLinkToken(token, KEY, NOW), {
      ok: true,
      claims: { ...claims, jobId },
    });
  }
});

Deno.test("tokens are compact and URL-safe", async () => {
  const token = await createRecoveryLinkToken(claims, KEY);
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.ok(token.length <= 64, `${token.length} characters`);
  assert.equal(encodeURIComponent(token), token);
  const withoutJob = await createRecoveryLinkToken({ ...claims, jobId: null }, KEY);
  assert.ok(withoutJob.length < token.length);
});

Deno.test("an uppercase case id comes back in lowercase", async () => {
  const token = await createRecoveryLinkToken({ ...claims, caseId: claims.caseId.toUpperCase() }, KEY);
  const check = await verifyRecoveryLinkToken(token, KEY, NOW);
  assert.ok(check.ok);
  assert.equal(check.claims.caseId, claims.caseId);
});

Deno.test("any change to the payload or the MAC is a bad signature", async () => {
  const [payload, mac] = (await createRecoveryLinkToken(claims, KEY)).split(".");
  const payloadBytes = decodeBase64Url(payload)!.length;
  // Byte 0 is the version: changing it makes the token malformed, not forged.
  for (let i = 1; i < payloadBytes; i++) {
    const check = await verifyRecoveryLinkToken(`${flipBit(payload, i)}.${mac}`, KEY, NOW);
    assert.deepEqual(check, { ok: false, reason: "bad_signature" }, `payload byte ${i}`);
  }
  for (let i = 0; i < 16; i++) {
    const check = await verifyRecoveryLinkToken(`${payload}.${flipBit(mac, i)}`, KEY, NOW);
    assert.deepEqual(check, { ok: false, reason: "bad_signature" }, `MAC byte ${i}`);
  }
  // Another token's MAC on this payload.
  const [, otherMac] = (await createRecoveryLinkToken({ ...claims, jobId: 43 }, KEY)).split(".");
  assert.deepEqual(await verifyRecoveryLinkToken(`${payload}.${otherMac}`, KEY, NOW), {
    ok: false,
    reason: "bad_signature",
  });
});

Deno.test("a token signed with another key is a bad signature", async () => {
  const token = await createRecoveryLinkToken(claims, KEY);
  for (const key of [KEY.slice(0, -1) + "1", KEY.toUpperCase(), "other", " " + KEY]) {
    assert.deepEqual(await verifyRecoveryLinkToken(token, key, NOW), { ok: false, reason: "bad_signature" });
  }
  assert.deepEqual(await verifyRecoveryLinkToken(token, "", NOW), { ok: false, reason: "bad_signature" });
});

Deno.test("a token is valid until its expiry, then expired", async () => {
  const token = await createRecoveryLinkToken({ ...claims, expiresAt: NOW + 10 }, KEY);
  assert.ok((await verifyRecoveryLinkToken(token, KEY, NOW + 9)).ok);
  assert.deepEqual(await verifyRecoveryLinkToken(token, KEY, NOW + 10), { ok: false, reason: "expired" });
  assert.deepEqual(await verifyRecoveryLinkToken(token, KEY, NOW + 10_000), { ok: false, reason: "expired" });
  // The default clock is now.
  const past = await createRecoveryLinkToken(
    { ...claims, expiresAt: Math.floor(Date.now() / 1000) - 1 },
    KEY,
  );
  assert.deepEqual(await verifyRecoveryLinkToken(past, KEY), { ok: false, reason: "expired" });
  const future = await createRecoveryLinkToken(
    { ...claims, expiresAt: Math.floor(Date.now() / 1000) + 60 },
    KEY,
  );
  assert.ok((await verifyRecoveryLinkToken(future, KEY)).ok);
});

Deno.test("the signature is checked before the expiry: an expired forgery is a bad signature", async () => {
  const expired = await createRecoveryLinkToken({ ...claims, expiresAt: NOW - 1 }, KEY);
  assert.deepEqual(await verifyRecoveryLinkToken(expired, "not the key", NOW), {
    ok: false,
    reason: "bad_signature",
  });
  const [payload, mac] = expired.split(".");
  assert.deepEqual(await verifyRecoveryLinkToken(`${flipBit(payload, 3)}.${mac}`, KEY, NOW), {
    ok: false,
    reason: "bad_signature",
  });
});

Deno.test("malformed tokens of every kind are refused without throwing", async () => {
  const token = await createRecoveryLinkToken(claims, KEY);
  const [payload, mac] = token.split(".");
  const payloadBytes = decodeBase64Url(payload)!;
  const reencode = (bytes: Uint8Array) => `${encodeBase64Url(bytes)}.${mac}`;
  // The last character of a 29-byte payload carries 2 unused bits: setting one spells the same bytes
  // differently, which must not be accepted (one token, one spelling).
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = alphabet.indexOf(payload.at(-1)!);
  const nonCanonical = payload.slice(0, -1) + alphabet[last | 1];
  const malformed = [
    "",
    ".",
    "..",
    "abc",
    payload,
    `${payload}.`,
    `.${mac}`,
    `${token}.`,
    `${token}.${mac}`,
    `${payload}.${mac}=`,
    `${payload}=.${mac}`,
    `${payload}.${mac.slice(0, -1)}`,
    `${payload}.${mac}AA`,
    `${payload.slice(0, -2)}.${mac}`,
    `${payload}A.${mac}`,
    `${payload.replaceAll("-", "+").replaceAll("_", "/")}+/.${mac}`,
    `${payload} .${mac}`,
    `${nonCanonical}.${mac}`,
    ` ${token}`,
    `${token}\n`,
    token.replace(".", "%2E"),
    reencode(payloadBytes.slice(0, 20)),
    reencode(new Uint8Array([...payloadBytes, 0])),
    reencode(new Uint8Array([2, ...payloadBytes.slice(1)])),
    reencode(new Uint8Array(0)),
    "é.ü",
    "\u0000.\u0000",
    "a".repeat(10_000),
    `${"A".repeat(200)}.${mac}`,
  ];
  for (const candidate of malformed) {
    const check = await verifyRecoveryLinkToken(candidate, KEY, NOW);
    assert.deepEqual(check, { ok: false, reason: "malformed" }, JSON.stringify(candidate.slice(0, 80)));
  }
  for (const junk of [null, undefined, 42, {}, ["a", "b"]]) {
    const check = await verifyRecoveryLinkToken(junk as unknown as string, KEY, NOW);
    assert.deepEqual(check, { ok: false, reason: "malformed" }, String(junk));
  }
});

Deno.test("random bytes never throw", async () => {
  for (let i = 0; i < 500; i++) {
    const length = Math.floor(Math.random() * 100);
    const text = Array.from(
      crypto.getRandomValues(new Uint8Array(length)),
      (b) => String.fromCharCode(b % 3 === 0 ? 46 : b),
    ).join("");
    const check = await verifyRecoveryLinkToken(text, KEY, NOW);
    assert.equal(check.ok, false);
  }
});

Deno.test("claims no token can hold are refused when signing", () => {
  for (
    const bad of [
      { ...claims, caseId: "not-a-uuid" },
      { ...claims, caseId: `${claims.caseId}0` },
      { ...claims, jobId: 0 },
      { ...claims, jobId: -1 },
      { ...claims, jobId: 1.5 },
      { ...claims, jobId: Number.MAX_SAFE_INTEGER + 1 },
      { ...claims, expiresAt: -1 },
      { ...claims, expiresAt: 2 ** 32 },
      { ...claims, expiresAt: NOW + 0.5 },
    ]
  ) {
    assert.throws(() => createRecoveryLinkToken(bad, KEY), RangeError, JSON.stringify(bad));
  }
  assert.throws(() => createRecoveryLinkToken(claims, ""), /LINK_SIGNING_KEY/);
});

Deno.test("recoveryLinkUrl puts the token under /r/ of the dashboard URL", () => {
  assert.equal(recoveryLinkUrl("https://dash.example.com", "abc.def"), "https://dash.example.com/r/abc.def");
  assert.equal(recoveryLinkUrl("https://dash.example.com/", "abc.def"), "https://dash.example.com/r/abc.def");
  assert.equal(
    recoveryLinkUrl("https://dash.example.com/app//", "a-b_c.d"),
    "https://dash.example.com/app/r/a-b_c.d",
  );
  assert.equal(recoveryLinkUrl("http://127.0.0.1:8000?x=1#y", "t.u"), "http://127.0.0.1:8000/r/t.u");
  assert.equal(recoveryLinkUrl("https://d.example", "a/b?c"), "https://d.example/r/a%2Fb%3Fc");
  assert.throws(() => recoveryLinkUrl("javascript:alert(1)", "t"), /http/);
  assert.throws(() => recoveryLinkUrl("not a url", "t"));
});

Deno.test("a link built from a real token parses back to the same token", async () => {
  const token = await createRecoveryLinkToken(claims, KEY);
  const url = new URL(recoveryLinkUrl("https://dash.example.com", token));
  assert.equal(url.pathname, `/r/${token}`);
  assert.ok((await verifyRecoveryLinkToken(url.pathname.slice(3), KEY, NOW)).ok);
});
