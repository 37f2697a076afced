// The dashboard's in-process limits on their own: bounded caches and per-user buckets (access
// checks), export slots, and the cross-site rule. End to end: tests/integration/dashboard_auth_limits_test.ts,
// dashboard_export_test.ts and dashboard_cross_site_test.ts.
import assert from "node:assert/strict";
import { TokenBuckets, TtlCache } from "../../web/lib/bounded_maps.ts";
import { comesFromUs, readAllowedOrigins } from "../../web/lib/cross_site.ts";
import { ExportSlots } from "../../web/lib/export_limits.ts";
import { HttpError } from "../../supabase/functions/_shared/http.ts";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => now += ms };
}

Deno.test("TtlCache: entries expire, and the least recently set go first when full", () => {
  const time = clock();
  const cache = new TtlCache<string>(3, 1000, time.now);
  cache.set("a", "1");
  cache.set("b", "2");
  cache.set("c", "3");
  cache.set("a", "1 again"); // a is now the newest
  cache.set("d", "4");
  assert.equal(cache.size, 3);
  assert.equal(cache.get("b"), undefined, "the oldest is forgotten");
  assert.equal(cache.get("a"), "1 again");
  time.advance(999);
  assert.equal(cache.get("d"), "4");
  time.advance(1);
  assert.equal(cache.get("d"), undefined, "expired after its TTL");
  for (let i = 0; i < 10_000; i++) cache.set(`flood${i}`, "x");
  assert.equal(cache.size, 3, "a flood of keys never grows it past its bound");
});

Deno.test("TokenBuckets: a burst, then one take per refill interval, per key", () => {
  const time = clock();
  const buckets = new TokenBuckets({ burst: 3, refillMs: 10_000, maxEntries: 100 }, time.now);
  assert.deepEqual([buckets.take("u"), buckets.take("u"), buckets.take("u")], [null, null, null]);
  assert.equal(buckets.take("u"), 10_000, "empty: the wait until the next token");
  assert.equal(buckets.take("other"), null, "another key has its own bucket");
  time.advance(4_000);
  assert.equal(buckets.take("u"), 6_000);
  time.advance(6_000);
  assert.equal(buckets.take("u"), null);
  assert.equal(buckets.take("u"), 10_000);
  time.advance(1_000_000);
  assert.deepEqual([buckets.take("u"), buckets.take("u"), buckets.take("u"), buckets.take("u")], [
    null,
    null,
    null,
    10_000,
  ], "refills up to the burst, not beyond");
  const small = new TokenBuckets({ burst: 1, refillMs: 1000, maxEntries: 2 }, time.now);
  for (const key of ["a", "b", "c", "d"]) small.take(key);
  assert.equal(small.size, 2);
});

Deno.test("ExportSlots: at most N at once and one per company; a released slot is taken by a waiter", async () => {
  const slots = new ExportSlots({ total: 2, perCompany: 1, waitMs: 200 });
  const a = await slots.acquire("biz_a");
  const b = await slots.acquire("biz_b");
  assert.equal(slots.running(), 2);

  const sameCompany = await slots.acquire("biz_a").catch((error) => error);
  assert.ok(sameCompany instanceof HttpError);
  assert.equal(sameCompany.status, 429);
  assert.equal(sameCompany.code, "export_running");
  const full = await slots.acquire("biz_c").catch((error) => error);
  assert.equal(full.status, 503);
  assert.equal(full.code, "exports_busy");

  const waiting = slots.acquire("biz_c");
  setTimeout(b, 50);
  const c = await waiting;
  assert.equal(slots.running("biz_c"), 1);
  b(); // a second release changes nothing
  assert.equal(slots.running(), 2);
  a();
  c();
  assert.equal(slots.running(), 0);
});

Deno.test("cross-site: Fetch Metadata and Origin decide; X-Forwarded-Host never does", () => {
  const url = "http://dashboard.test/dashboard/biz_1/settings";
  const allowed = readAllowedOrigins(
    new Map([["DASHBOARD_ALLOWED_ORIGINS", "https://App.Apps.Whop.test:443/ "]]),
  );
  assert.deepEqual(allowed, ["https://app.apps.whop.test"]);
  const from = (headers: Record<string, string>) => comesFromUs(new Headers(headers), url, allowed);
  assert.ok(from({}));
  assert.ok(from({ "sec-fetch-site": "same-origin" }));
  assert.ok(from({ "sec-fetch-site": "same-origin", origin: "http://dashboard.test" }));
  assert.ok(from({ origin: "https://dashboard.test" }), "our host behind a TLS proxy");
  assert.ok(from({ "sec-fetch-site": "same-origin", origin: "https://app.apps.whop.test" }));
  assert.ok(!from({ "sec-fetch-site": "same-site", origin: "https://app.apps.whop.test" }));
  assert.ok(!from({ origin: "https://evil.example", "x-forwarded-host": "evil.example" }));
  assert.ok(!from({ origin: "https://app.apps.whop.test.evil.example" }));
  assert.ok(!from({ origin: "null" }));
  assert.deepEqual(readAllowedOrigins(new Map()), []);
  for (const bad of ["https://x.test/path", "x.test", "javascript:alert(1)", "https://x.test?q=1"]) {
    assert.throws(
      () => readAllowedOrigins(new Map([["DASHBOARD_ALLOWED_ORIGINS", bad]])),
      /DASHBOARD_ALLOWED_ORIGINS/,
    );
  }
});
