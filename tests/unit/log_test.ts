import assert from "node:assert/strict";
import { log, redact, redactText, registerSecrets } from "../../supabase/functions/_shared/log.ts";

Deno.test("redactText removes emails, bearer tokens, Whop secrets and URL passwords", () => {
  const text = redactText(
    "mail jane.doe+x@example.co.uk, Authorization: Bearer abc.def-ghi, secret ws_0123abcd, postgres://u:hunter2@db:5432/x",
  );
  for (const leaked of ["jane.doe", "abc.def-ghi", "0123abcd", "hunter2"]) {
    assert.ok(!text.includes(leaked), leaked);
  }
  assert.match(text, /\[email\]/);
  assert.match(text, /Bearer \[redacted\]/);
  assert.match(text, /postgres:\/\/u:\[redacted\]@db/);
});

Deno.test("redact hides sensitive keys at any depth and keeps the rest", () => {
  const out = redact({
    company_id: "biz_1",
    user: { email: "a@b.io", name: "Jane", username: "jd", id: "user_1" },
    headers: { authorization: "Bearer x", "x-request-id": "r1" },
    api_key: "k",
    nested: [{ note: "contact a@b.io" }],
  });
  assert.deepEqual(out, {
    company_id: "biz_1",
    user: { email: "[redacted]", name: "[redacted]", username: "[redacted]", id: "user_1" },
    headers: { authorization: "[redacted]", "x-request-id": "r1" },
    api_key: "[redacted]",
    nested: [{ note: "contact [email]" }],
  });
});

Deno.test("the logger writes one JSON line without the sensitive values", () => {
  const lines: string[] = [];
  const original = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    log.info("webhook from a@b.io", { token: "t0k3n", company_id: "biz_1" });
  } finally {
    console.log = original;
  }
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.level, "info");
  assert.equal(entry.msg, "webhook from [email]");
  assert.equal(entry.token, "[redacted]");
  assert.equal(entry.company_id, "biz_1");
  assert.ok(!lines[0].includes("t0k3n"));
});

Deno.test("redactText removes JWTs, secret assignments, key ring entries, raw hex keys and configured secrets", () => {
  const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2lnbmF0dXJlLWJ5dGVz";
  const hexKey = "9f".repeat(32);
  const ringKey = "k1:" + btoa("x".repeat(32));
  registerSecrets(new Map([["WHOP_API_KEY", "apik_Plain-Looking-Value"], ["ENCRYPTION_KEYS", ringKey]]));
  const text = redactText(
    `token ${jwt}; CRON_SECRET=abc123secret OPS_TOKEN="quoted value" key ${hexKey} ring ${ringKey} ` +
      "called with apik_Plain-Looking-Value",
  );
  for (const leaked of [jwt, "abc123secret", "quoted value", hexKey, ringKey.slice(3), "apik_Plain"]) {
    assert.ok(!text.includes(leaked), leaked);
  }
  assert.match(text, /CRON_SECRET=\[redacted\]/);
  assert.match(text, /\[jwt\]/);
  // Ids and short hashes stay readable.
  assert.equal(
    redactText("case 42 of biz_abc user_9f8e membership mem_0123456789abcdef"),
    "case 42 of biz_abc user_9f8e membership mem_0123456789abcdef",
  );
});

Deno.test("redact hides names under any of their usual keys", () => {
  const out = redact({
    first_name: "Ada",
    lastName: "Lovelace",
    display_name: "ada",
    phone: "+1 555",
    id: "u",
  });
  assert.deepEqual(out, {
    first_name: "[redacted]",
    lastName: "[redacted]",
    display_name: "[redacted]",
    phone: "[redacted]",
    id: "u",
  });
});
