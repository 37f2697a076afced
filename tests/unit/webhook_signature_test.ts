import assert from "node:assert/strict";
import {
  hmacSha256,
  legacySignedContent,
  signedBytes,
  signLegacyWebhook,
  signStandardWebhook,
  standardSignedContent,
  toBase64,
  toHex,
} from "../../supabase/functions/_shared/whop/webhook_signature.ts";

// Test vectors from /work/shared/WHOP.md sections 1.1 and 1.2.
const STANDARD_SECRET = "ws_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const LEGACY_SECRET = "my_legacy_secret";

Deno.test("signStandardWebhook reproduces Whop's Standard Webhooks test vector", async () => {
  const signature = await signStandardWebhook({
    secret: STANDARD_SECRET,
    id: "msg_test_1",
    timestamp: 1727606400,
    body: '{"type":"payment.failed"}',
  });
  assert.equal(signature, "v1,/kxUhjX3A5bthkSM43WF+Y1y8F4KXf8a3U+yrZm+R6E=");
});

Deno.test("signStandardWebhook accepts the timestamp as a string header value", async () => {
  const signature = await signStandardWebhook({
    secret: STANDARD_SECRET,
    id: "msg_test_1",
    timestamp: "1727606400",
    body: '{"type":"payment.failed"}',
  });
  assert.equal(signature, "v1,/kxUhjX3A5bthkSM43WF+Y1y8F4KXf8a3U+yrZm+R6E=");
});

Deno.test("signLegacyWebhook reproduces Whop's legacy x-whop-signature test vector", async () => {
  const signature = await signLegacyWebhook({
    secret: LEGACY_SECRET,
    timestamp: 1727606400,
    body: '{"action":"payment.failed","api_version":"v5","data":{}}',
  });
  assert.equal(
    signature,
    "t=1727606400,v1=ea7449e28098d3f692275bb8273a09a46b9accc0eaca99ef125e82ddca25a042",
  );
});

Deno.test("the key is the whole secret string, not a base64-decoded or prefix-stripped one", async () => {
  const body = '{"type":"payment.failed"}';
  const content = standardSignedContent("msg_test_1", 1727606400, body);
  const whole = toBase64(await hmacSha256(STANDARD_SECRET, content));
  const stripped = toBase64(await hmacSha256(STANDARD_SECRET.slice(3), content));
  assert.equal(`v1,${whole}`, "v1,/kxUhjX3A5bthkSM43WF+Y1y8F4KXf8a3U+yrZm+R6E=");
  assert.notEqual(whole, stripped);
});

Deno.test("any change to id, timestamp or body changes the signature", async () => {
  const base = { secret: STANDARD_SECRET, id: "msg_test_1", timestamp: 1727606400, body: "{}" };
  const reference = await signStandardWebhook(base);
  assert.notEqual(await signStandardWebhook({ ...base, id: "msg_test_2" }), reference);
  assert.notEqual(await signStandardWebhook({ ...base, timestamp: 1727606401 }), reference);
  assert.notEqual(await signStandardWebhook({ ...base, body: "{ }" }), reference);
  assert.notEqual(await signStandardWebhook({ ...base, secret: `${STANDARD_SECRET}0` }), reference);
});

Deno.test("helpers: signed content strings and encodings", async () => {
  assert.equal(standardSignedContent("a", 1, "b"), "a.1.b");
  assert.equal(legacySignedContent(2, "c"), "2.c");
  assert.equal(toHex(new Uint8Array([0, 15, 255])), "000fff");
  assert.equal(toBase64(new Uint8Array([255, 254])), "//4=");
  const mac = await hmacSha256("key", "The quick brown fox jumps over the lazy dog");
  // RFC-style well-known HMAC-SHA256 example.
  assert.equal(toHex(mac), "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  assert.equal(mac.length, 32);
});

Deno.test("signedBytes is the signers' string as bytes, with the body's bytes kept as they are", async () => {
  const encode = (text: string) => new TextEncoder().encode(text);
  const body = encode('\uFEFF{"a":"é"}');
  assert.deepEqual(
    signedBytes("msg_1.5.", body),
    encode(standardSignedContent("msg_1", 5, '\uFEFF{"a":"é"}')),
  );
  assert.deepEqual(signedBytes("5.", body), encode(legacySignedContent(5, '\uFEFF{"a":"é"}')));
  // hmacSha256 gives the same MAC for a string and its UTF-8 bytes.
  assert.deepEqual(await hmacSha256("key", encode("a.1.b")), await hmacSha256("key", "a.1.b"));
});
