import assert from "node:assert/strict";
import {
  parseWebhookSecrets,
  type SignatureResult,
  verifyWhopSignature,
} from "../../supabase/functions/_shared/whop/verify_signature.ts";
import {
  hmacSha256,
  signedBytes,
  signLegacyWebhook,
  signStandardWebhook,
  toBase64,
  toHex,
} from "../../supabase/functions/_shared/whop/webhook_signature.ts";

// Test vectors from /work/shared/WHOP.md sections 1.1 and 1.2.
const STANDARD_SECRET = "ws_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const STANDARD_BODY = '{"type":"payment.failed"}';
const STANDARD_SIGNATURE = "v1,/kxUhjX3A5bthkSM43WF+Y1y8F4KXf8a3U+yrZm+R6E=";
const LEGACY_SECRET = "my_legacy_secret";
const LEGACY_BODY = '{"action":"payment.failed","api_version":"v5","data":{}}';
const LEGACY_SIGNATURE = "t=1727606400,v1=ea7449e28098d3f692275bb8273a09a46b9accc0eaca99ef125e82ddca25a042";
const T = 1727606400;
const OLD_SECRET = "ws_old_fedcba9876543210";
const UNKNOWN_SECRET = "ws_not_configured_0000";

function standardHeaders(signature: string, id = "msg_test_1", timestamp: string | number = T): Headers {
  return new Headers({
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signature,
  });
}

async function signedStandard(secret: string, body = STANDARD_BODY, timestamp = T): Promise<Headers> {
  return standardHeaders(
    await signStandardWebhook({ secret, id: "msg_test_1", timestamp, body }),
    "msg_test_1",
    timestamp,
  );
}

const legacyHeaders = (value: string) => new Headers({ "x-whop-signature": value });

function assertFailure(result: SignatureResult, reason: string, label: string): void {
  assert.deepEqual(result, { ok: false, reason }, label);
}

/** A fresh 32-byte MAC, base64, that matches nothing. */
const randomMacBase64 = () => toBase64(crypto.getRandomValues(new Uint8Array(32)));
const randomMacHex = () => toHex(crypto.getRandomValues(new Uint8Array(32)));

Deno.test("parseWebhookSecrets splits on commas, trims and drops empty entries", () => {
  assert.deepEqual(parseWebhookSecrets("ws_a"), ["ws_a"]);
  assert.deepEqual(parseWebhookSecrets(" ws_new , ws_old ,, "), ["ws_new", "ws_old"]);
  assert.deepEqual(parseWebhookSecrets(""), []);
  assert.deepEqual(parseWebhookSecrets(" , "), []);
});

Deno.test("Whop's Standard Webhooks test vector verifies", async () => {
  const result = await verifyWhopSignature(standardHeaders(STANDARD_SIGNATURE), STANDARD_BODY, [
    STANDARD_SECRET,
  ], T);
  assert.deepEqual(result, { ok: true, format: "v1", webhookId: "msg_test_1", timestamp: T });
});

Deno.test("Whop's legacy x-whop-signature test vector verifies", async () => {
  const result = await verifyWhopSignature(legacyHeaders(LEGACY_SIGNATURE), LEGACY_BODY, [LEGACY_SECRET], T);
  assert.deepEqual(result, { ok: true, format: "legacy", webhookId: null, timestamp: T });
  const upper = LEGACY_SIGNATURE.replace(/v1=(.*)$/, (_, hex: string) => `v1=${hex.toUpperCase()}`);
  assert.equal((await verifyWhopSignature(legacyHeaders(upper), LEGACY_BODY, [LEGACY_SECRET], T)).ok, true);
});

Deno.test("a tampered body or a wrong secret is a bad signature", async () => {
  const headers = standardHeaders(STANDARD_SIGNATURE);
  assertFailure(
    await verifyWhopSignature(headers, '{"type":"payment.succeeded"}', [STANDARD_SECRET], T),
    "bad_signature",
    "v1 body",
  );
  assertFailure(
    await verifyWhopSignature(headers, `${STANDARD_BODY} `, [STANDARD_SECRET], T),
    "bad_signature",
    "v1 space",
  );
  assertFailure(
    await verifyWhopSignature(headers, STANDARD_BODY, [UNKNOWN_SECRET], T),
    "bad_signature",
    "v1 secret",
  );
  const otherId = standardHeaders(STANDARD_SIGNATURE, "msg_test_2");
  assertFailure(
    await verifyWhopSignature(otherId, STANDARD_BODY, [STANDARD_SECRET], T),
    "bad_signature",
    "v1 id",
  );

  const legacy = legacyHeaders(LEGACY_SIGNATURE);
  assertFailure(await verifyWhopSignature(legacy, "{}", [LEGACY_SECRET], T), "bad_signature", "legacy body");
  assertFailure(
    await verifyWhopSignature(legacy, LEGACY_BODY, [UNKNOWN_SECRET], T),
    "bad_signature",
    "legacy secret",
  );
  assertFailure(await verifyWhopSignature(legacy, LEGACY_BODY, [], T), "bad_signature", "no secrets");
  assertFailure(await verifyWhopSignature(legacy, LEGACY_BODY, [""], T), "bad_signature", "empty secret");
});

Deno.test("timestamps more than 300 s away, past or future, are stale; 300 s is still accepted", async () => {
  const v1 = standardHeaders(STANDARD_SIGNATURE);
  const legacy = legacyHeaders(LEGACY_SIGNATURE);
  for (const now of [T + 301, T - 301, T + 1_000_000, 0]) {
    assertFailure(
      await verifyWhopSignature(v1, STANDARD_BODY, [STANDARD_SECRET], now),
      "stale_timestamp",
      `v1 ${now}`,
    );
    assertFailure(
      await verifyWhopSignature(legacy, LEGACY_BODY, [LEGACY_SECRET], now),
      "stale_timestamp",
      `legacy ${now}`,
    );
  }
  for (const now of [T + 300, T - 300]) {
    assert.equal((await verifyWhopSignature(v1, STANDARD_BODY, [STANDARD_SECRET], now)).ok, true);
    assert.equal((await verifyWhopSignature(legacy, LEGACY_BODY, [LEGACY_SECRET], now)).ok, true);
  }
});

Deno.test("the default clock is now: a fresh signature passes, the vector's 2024 timestamp is stale", async () => {
  const now = Math.floor(Date.now() / 1000);
  assert.equal(
    (await verifyWhopSignature(await signedStandard(STANDARD_SECRET, "{}", now), "{}", [STANDARD_SECRET])).ok,
    true,
  );
  assertFailure(
    await verifyWhopSignature(standardHeaders(STANDARD_SIGNATURE), STANDARD_BODY, [STANDARD_SECRET]),
    "stale_timestamp",
    "vector",
  );
});

Deno.test("missing headers", async () => {
  const check = async (init: Record<string, string>, label: string) =>
    assertFailure(
      await verifyWhopSignature(new Headers(init), STANDARD_BODY, [STANDARD_SECRET], T),
      "missing_signature",
      label,
    );
  await check({}, "no headers at all");
  await check({ "webhook-id": "msg_test_1", "webhook-timestamp": String(T) }, "no webhook-signature");
  await check({ "webhook-signature": STANDARD_SIGNATURE, "webhook-timestamp": String(T) }, "no webhook-id");
  await check(
    { "webhook-signature": STANDARD_SIGNATURE, "webhook-id": "msg_test_1" },
    "no webhook-timestamp",
  );
});

Deno.test("malformed Standard Webhooks headers", async () => {
  const cases: [string, Headers][] = [
    ["empty signature", standardHeaders("")],
    ["blank signature", standardHeaders("   ")],
    ["no comma", standardHeaders("v1")],
    ["bad base64", standardHeaders("v1,!!!not-base64!!!")],
    ["base64url alphabet", standardHeaders(STANDARD_SIGNATURE.replaceAll("+", "-").replaceAll("/", "_"))],
    ["missing padding", standardHeaders(STANDARD_SIGNATURE.replace(/=$/, ""))],
    ["16-byte MAC", standardHeaders(`v1,${toBase64(new Uint8Array(16))}`)],
    ["hex instead of base64", standardHeaders(`v1,${"ab".repeat(32)}`)],
    ["only other versions", standardHeaders(`v2,${randomMacBase64()} v1a,${randomMacBase64()}`)],
    ["signature only spaces and commas", standardHeaders(" , , ")],
    ["huge", standardHeaders(`${STANDARD_SIGNATURE} `.repeat(200))],
    ["empty webhook-id", standardHeaders(STANDARD_SIGNATURE, "")],
    ["huge webhook-id", standardHeaders(STANDARD_SIGNATURE, "m".repeat(300))],
    ["empty timestamp", standardHeaders(STANDARD_SIGNATURE, "msg_test_1", "")],
    ["negative timestamp", standardHeaders(STANDARD_SIGNATURE, "msg_test_1", "-1727606400")],
    ["fractional timestamp", standardHeaders(STANDARD_SIGNATURE, "msg_test_1", "1727606400.0")],
    ["exponent timestamp", standardHeaders(STANDARD_SIGNATURE, "msg_test_1", "1.7276064e9")],
    ["ISO timestamp", standardHeaders(STANDARD_SIGNATURE, "msg_test_1", "2024-09-29T10:40:00Z")],
    ["huge timestamp", standardHeaders(STANDARD_SIGNATURE, "msg_test_1", "9".repeat(40))],
  ];
  for (const [label, headers] of cases) {
    assertFailure(
      await verifyWhopSignature(headers, STANDARD_BODY, [STANDARD_SECRET], T),
      "malformed_signature",
      label,
    );
  }
});

Deno.test("malformed legacy headers", async () => {
  const mac = LEGACY_SIGNATURE.split("v1=")[1];
  const cases = [
    "",
    "garbage",
    `v1=${mac}`,
    `t=,v1=${mac}`,
    `t=abc,v1=${mac}`,
    `t=-1727606400,v1=${mac}`,
    `t=1727606400,t=1727606401,v1=${mac}`,
    "t=1727606400",
    "t=1727606400,v1=",
    "t=1727606400,v1=zz",
    `t=1727606400,v1=${mac.slice(1)}`,
    `t=1727606400,v1=${mac}00`,
    `t=1727606400,v0=${mac}`,
    `t=1727606400,,v1=${mac}`,
    `t=1727606400,=${mac}`,
    `t=1727606400,v1=${mac}`.repeat(100),
  ];
  for (const value of cases) {
    assertFailure(
      await verifyWhopSignature(legacyHeaders(value), LEGACY_BODY, [LEGACY_SECRET], T),
      "malformed_signature",
      JSON.stringify(value.slice(0, 80)),
    );
  }
});

Deno.test("secret rotation: any configured secret passes, an unlisted one fails", async () => {
  const secrets = [STANDARD_SECRET, OLD_SECRET];
  assert.equal(
    (await verifyWhopSignature(await signedStandard(STANDARD_SECRET), STANDARD_BODY, secrets, T)).ok,
    true,
  );
  assert.equal(
    (await verifyWhopSignature(await signedStandard(OLD_SECRET), STANDARD_BODY, secrets, T)).ok,
    true,
  );
  assertFailure(
    await verifyWhopSignature(await signedStandard(UNKNOWN_SECRET), STANDARD_BODY, secrets, T),
    "bad_signature",
    "unlisted v1",
  );

  const legacy = async (secret: string) =>
    legacyHeaders(await signLegacyWebhook({ secret, timestamp: T, body: LEGACY_BODY }));
  assert.equal(
    (await verifyWhopSignature(await legacy(OLD_SECRET), LEGACY_BODY, [LEGACY_SECRET, OLD_SECRET], T)).ok,
    true,
  );
  assertFailure(
    await verifyWhopSignature(await legacy(UNKNOWN_SECRET), LEGACY_BODY, [LEGACY_SECRET, OLD_SECRET], T),
    "bad_signature",
    "unlisted legacy",
  );
});

Deno.test("several signature entries in one webhook-signature header: any v1 match passes", async () => {
  const verify = (signature: string) =>
    verifyWhopSignature(standardHeaders(signature), STANDARD_BODY, [STANDARD_SECRET], T);
  const wrong = `v1,${randomMacBase64()}`;
  assert.equal((await verify(`${wrong} ${STANDARD_SIGNATURE}`)).ok, true);
  assert.equal((await verify(`${STANDARD_SIGNATURE} ${wrong}`)).ok, true);
  assert.equal(
    (await verify(`v2,${randomMacBase64()}  ${STANDARD_SIGNATURE}`)).ok,
    true,
    "unknown tags ignored",
  );
  assert.equal((await verify(`v1,!!! ${STANDARD_SIGNATURE}`)).ok, true, "an undecodable entry is skipped");
  assertFailure(await verify(`${wrong} v1,${randomMacBase64()}`), "bad_signature", "no entry matches");
  // The v1 signature for the right MAC under another version tag must not count.
  assertFailure(
    await verify(`${STANDARD_SIGNATURE.replace("v1,", "v2,")} ${wrong}`),
    "bad_signature",
    "v2 tag",
  );
});

Deno.test("legacy header with several v1= entries: any match passes", async () => {
  const mac = LEGACY_SIGNATURE.split("v1=")[1];
  const verify = (value: string) =>
    verifyWhopSignature(legacyHeaders(value), LEGACY_BODY, [LEGACY_SECRET], T);
  assert.equal((await verify(`t=${T},v1=${randomMacHex()},v1=${mac}`)).ok, true);
  assert.equal((await verify(`v1=${mac}, t=${T}, v1=${randomMacHex()}`)).ok, true, "order and spaces");
  assert.equal((await verify(`t=${T},v0=ignored,v1=${mac}`)).ok, true, "other keys ignored");
  assertFailure(
    await verify(`t=${T},v1=${randomMacHex()},v1=${randomMacHex()}`),
    "bad_signature",
    "none match",
  );
});

Deno.test("webhook-signature wins when both formats are present", async () => {
  const headers = standardHeaders(STANDARD_SIGNATURE);
  headers.set("x-whop-signature", LEGACY_SIGNATURE);
  const result = await verifyWhopSignature(headers, STANDARD_BODY, [STANDARD_SECRET, LEGACY_SECRET], T);
  assert.deepEqual(result, { ok: true, format: "v1", webhookId: "msg_test_1", timestamp: T });
  // A legacy header cannot rescue a broken v1 one.
  headers.set("webhook-signature", "v1,garbage");
  assertFailure(
    await verifyWhopSignature(headers, LEGACY_BODY, [LEGACY_SECRET], T),
    "malformed_signature",
    "both",
  );
});

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("random garbage headers never throw and never verify", async () => {
  const random = prng(20240929);
  // Characters the parsers care about, plus others a header may carry (Headers allows Latin-1).
  const alphabet = "v1t0=,. +/_-abcdefABCDEF0123456789xyz\t!\"#%&'()*:;<>?@[]^`{|}~é\u00ff";
  const pieces = [
    "v1,",
    "t=",
    "v1=",
    ",",
    " ",
    "=",
    String(T),
    STANDARD_SIGNATURE.slice(3),
    LEGACY_SIGNATURE,
  ];
  const garbage = () => {
    const length = Math.floor(random() * (random() < 0.05 ? 6000 : 120));
    let text = "";
    while (text.length < length) {
      text += random() < 0.2
        ? pieces[Math.floor(random() * pieces.length)]
        : alphabet[Math.floor(random() * alphabet.length)];
    }
    return text;
  };
  for (let i = 0; i < 400; i++) {
    const variants = [
      new Headers({
        "webhook-signature": garbage(),
        "webhook-id": garbage(),
        "webhook-timestamp": garbage(),
      }),
      new Headers({
        "webhook-signature": garbage(),
        "webhook-id": "msg_test_1",
        "webhook-timestamp": String(T),
      }),
      new Headers({ "x-whop-signature": garbage() }),
      new Headers({ "x-whop-signature": `t=${T},v1=${garbage()}` }),
    ];
    for (const headers of variants) {
      const result = await verifyWhopSignature(headers, garbage(), [STANDARD_SECRET, LEGACY_SECRET], T);
      assert.equal(result.ok, false, `iteration ${i}`);
    }
  }
});

// Issue 11 item 9: the MAC is over the bytes as sent, so a byte-order mark (or any byte the UTF-8
// decoder would drop or replace) is part of what is checked.
const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);
const withBom = (text: string) =>
  signedBytes("", new Uint8Array([...BOM, ...new TextEncoder().encode(text)]));

Deno.test("a body starting with a byte-order mark verifies on its raw bytes, in both schemes", async () => {
  const bytes = withBom(STANDARD_BODY);
  const v1 = await signStandardWebhook({
    secret: STANDARD_SECRET,
    id: "msg_test_1",
    timestamp: T,
    body: `\uFEFF${STANDARD_BODY}`,
  });
  assert.equal((await verifyWhopSignature(standardHeaders(v1), bytes, [STANDARD_SECRET], T)).ok, true);
  const legacy = await signLegacyWebhook({
    secret: LEGACY_SECRET,
    timestamp: T,
    body: `\uFEFF${LEGACY_BODY}`,
  });
  assert.equal(
    (await verifyWhopSignature(legacyHeaders(legacy), withBom(LEGACY_BODY), [LEGACY_SECRET], T)).ok,
    true,
  );
});

Deno.test("a byte-order mark the signer did not sign makes the signature fail", async () => {
  // Signed over the text without the mark, sent with it: not what was signed.
  const v1 = await signStandardWebhook({
    secret: STANDARD_SECRET,
    id: "msg_test_1",
    timestamp: T,
    body: STANDARD_BODY,
  });
  assertFailure(
    await verifyWhopSignature(standardHeaders(v1), withBom(STANDARD_BODY), [STANDARD_SECRET], T),
    "bad_signature",
    "mark added after signing",
  );
  // And the other way round: signed with the mark, sent without it.
  const marked = await signStandardWebhook({
    secret: STANDARD_SECRET,
    id: "msg_test_1",
    timestamp: T,
    body: `\uFEFF${STANDARD_BODY}`,
  });
  assertFailure(
    await verifyWhopSignature(standardHeaders(marked), STANDARD_BODY, [STANDARD_SECRET], T),
    "bad_signature",
    "mark removed after signing",
  );
});

Deno.test("bytes that are not UTF-8 are verified as they are, not as decoded text", async () => {
  const bytes = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]); // {"\xff\xfe"}
  const mac = await hmacSha256(STANDARD_SECRET, signedBytes(`msg_test_1.${T}.`, bytes));
  const headers = standardHeaders(`v1,${toBase64(mac)}`);
  assert.equal((await verifyWhopSignature(headers, bytes, [STANDARD_SECRET], T)).ok, true);
  // The decoded text (U+FFFD for each bad byte) is other bytes: it must not verify.
  const decoded = new TextDecoder().decode(bytes);
  assertFailure(
    await verifyWhopSignature(headers, decoded, [STANDARD_SECRET], T),
    "bad_signature",
    "decoded",
  );
});
