// The webhook endpoint's guards without a database: the failed-verification limit (per source, one
// minute windows, a fixed number of tracked sources), the batched rejection counts, and which
// address a request is attributed to.
import assert from "node:assert/strict";
import { clientAddress, UNKNOWN_SOURCE } from "../../supabase/functions/whop-webhook/client_address.ts";
import { HttpError } from "../../supabase/functions/_shared/http.ts";
import {
  FailedVerificationLimiter,
  Rejection,
  RejectionTally,
} from "../../supabase/functions/whop-webhook/guards.ts";

Deno.test("the limiter answers over-limit only past the limit, per source, and forgets at the next window", () => {
  let now = 120_000;
  const limiter = new FailedVerificationLimiter(2, 100, 60_000, () => now);
  assert.deepEqual([1, 2, 3].map(() => limiter.recordFailure("10.0.0.1")), [false, false, true]);
  assert.equal(limiter.recordFailure("10.0.0.2"), false, "another source has its own count");
  now += 59_999;
  assert.equal(limiter.recordFailure("10.0.0.1"), true, "same window");
  now += 1;
  assert.equal(limiter.recordFailure("10.0.0.1"), false, "a new window starts from zero");
});

Deno.test("the limiter tracks a bounded number of sources; the rest share one overflow bucket", () => {
  const limiter = new FailedVerificationLimiter(5, 100, 60_000, () => 0);
  for (let i = 0; i < 100; i++) limiter.recordFailure(`10.0.${i >> 8}.${i & 255}`);
  const answers: boolean[] = [];
  for (let i = 0; i < 10_000; i++) answers.push(limiter.recordFailure(`172.16.${i >> 8}.${i & 255}`));
  assert.equal(limiter.trackedSources, 101, "100 sources and the overflow bucket, whatever the flood claims");
  assert.deepEqual(answers.slice(0, 6), [false, false, false, false, false, true]);
  assert.equal(answers.filter((over) => over).length, 10_000 - 5, "new addresses cannot escape the limit");
  assert.equal(limiter.recordFailure("10.0.0.1"), false, "a source tracked before the flood keeps its count");
});

Deno.test("rejection counts: the first written at once, a burst in one write, failed writes kept", async () => {
  const writes: Record<string, number>[] = [];
  let failNext = false;
  // A long interval: after the first write, only the explicit flushes below write anything.
  const tally = new RejectionTally(async (counts) => {
    await Promise.resolve();
    if (failNext) {
      failNext = false;
      throw new Error("database down");
    }
    writes.push(counts);
  }, 60_000);
  tally.add("bad_signature");
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(
    writes,
    [{ bad_signature: 1 }],
    "the first rejection after a quiet interval is written at once",
  );

  for (let i = 0; i < 1000; i++) tally.add(i % 2 ? "missing_signature" : "bad_signature");
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(writes.length, 1, "a burst waits for the interval instead of writing per rejection");
  failNext = true;
  await tally.flush();
  assert.equal(writes.length, 1, "that write failed");
  tally.add("malformed_json");
  await tally.flush();
  assert.deepEqual(writes, [{ bad_signature: 1 }, {
    bad_signature: 500,
    missing_signature: 500,
    malformed_json: 1,
  }]);
  await tally.flush();
  assert.equal(writes.length, 2, "nothing pending, nothing written");
});

Deno.test("client address: cf-connecting-ip, else the last x-forwarded-for entry, never a client's first entry", () => {
  const address = (init: Record<string, string>) => clientAddress(new Headers(init));
  assert.equal(
    address({ "cf-connecting-ip": "203.0.113.7", "x-forwarded-for": "1.2.3.4, 5.6.7.8" }),
    "203.0.113.7",
  );
  assert.equal(address({ "x-forwarded-for": "1.2.3.4, 198.51.100.2" }), "198.51.100.2");
  assert.equal(address({ "x-forwarded-for": "198.51.100.2" }), "198.51.100.2");
  assert.equal(address({ "cf-connecting-ip": "2001:DB8::1" }), "2001:db8::1");
  assert.equal(address({}), UNKNOWN_SOURCE);
  assert.equal(address({ "cf-connecting-ip": "not an address" }), UNKNOWN_SOURCE);
  assert.equal(
    address({ "x-forwarded-for": `1.2.3.4, ${"9".repeat(5000)}` }),
    UNKNOWN_SOURCE,
    "bounded keys",
  );
});

Deno.test("a rejection is an HttpError with its status, code and counted reason, and leaves stack traces on", () => {
  const limit = Error.stackTraceLimit;
  const refused = new Rejection(429, "bad_signature", "too many", { "retry-after": "60" }, "rate_limited");
  assert.ok(refused instanceof HttpError);
  assert.deepEqual(
    { status: refused.status, code: refused.code, reason: refused.reason, headers: refused.headers },
    { status: 429, code: "rate_limited", reason: "bad_signature", headers: { "retry-after": "60" } },
  );
  assert.equal(new Rejection(401, "missing_signature", "no").code, "missing_signature");
  assert.equal(Error.stackTraceLimit, limit, "other errors still get their stack traces");
  assert.ok(new Error("other").stack?.includes("webhook_guards_test"));
});
