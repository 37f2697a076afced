// The whop-webhook contract (ARCHITECTURE section 7) against the real database: what is stored,
// what is refused with which status, and that refused deliveries store nothing but a count.
import assert from "node:assert/strict";
import { legacyEvent, membershipEvent, paymentEvent } from "../../whop-sandbox/payloads.ts";
import { setFlags, signedRequest, uniqueCompany, withWebhookApp } from "../support/webhooks.ts";

const TEST_VECTOR_SECRET = "ws_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

Deno.test("a signed payment.failed is stored and opens a case; the same delivery again is a 200 no-op", async () => {
  await withWebhookApp(async ({ send, sql }) => {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
    const companyId = uniqueCompany("ingest");
    const payload = paymentEvent("payment.failed", {
      companyId,
      membershipId: "mem_ingest1",
      userId: "user_ingest1",
      amount: 29.99,
    });
    const first = await send(await signedRequest(payload));
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { status: "stored", id: payload.id, processed: true });
    const again = await send(await signedRequest(payload));
    assert.equal(again.status, 200);
    assert.equal(again.body.status, "duplicate");

    const [event] =
      await sql`select type, amount_minor, currency, processed_at from public.events where id = ${payload.id}`;
    assert.deepEqual({ type: event.type, amount: Number(event.amount_minor), currency: event.currency }, {
      type: "payment.failed",
      amount: 2999,
      currency: "usd",
    });
    assert.ok(event.processed_at);
    const cases = await sql`select status, reason from public.recovery_cases where company_id = ${companyId}`;
    assert.deepEqual(cases.map((row) => ({ ...row })), [{ status: "open", reason: "payment_failed" }]);
    const [settings] =
      await sql`select count(*)::int as n from public.company_settings where company_id = ${companyId}`;
    assert.equal(settings.n, 1, "the new company was provisioned with default settings");
  });
});

Deno.test("unknown event types are stored and answered 200", async () => {
  await withWebhookApp(async ({ send, sql }) => {
    const companyId = uniqueCompany("unknown");
    const payload = {
      ...paymentEvent("payment.succeeded", { companyId }),
      type: "entry.created_by_future_whop",
    };
    const response = await send(await signedRequest(payload));
    assert.equal(response.status, 200);
    assert.equal(response.body.status, "stored");
    const [row] = await sql`select type from public.events where id = ${payload.id}`;
    assert.equal(row.type, "entry.created_by_future_whop");
  });
});

Deno.test("legacy v5 deliveries with x-whop-signature are stored under normalised names", async () => {
  await withWebhookApp(async ({ send, sql }) => {
    const companyId = uniqueCompany("legacy");
    const payload = legacyEvent("app_membership.went_invalid", { companyId, membershipId: "mem_legacy1" });
    const response = await send(await signedRequest(payload, { format: "legacy" }));
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const [row] = await sql`select type, raw_type, format from public.events where id = ${response.body
      .id as string}`;
    assert.deepEqual({ ...row }, {
      type: "membership.deactivated",
      raw_type: "app_membership.went_invalid",
      format: "legacy",
    });
  });
});

Deno.test("bad signatures are refused 401 and store nothing, only a count by reason", async () => {
  await withWebhookApp(async ({ send, sql }) => {
    const companyId = uniqueCompany("forged");
    const payload = membershipEvent("membership.deactivated", { companyId, membershipId: "mem_forged" });
    const good = await signedRequest(payload);
    const now = Math.floor(Date.now() / 1000);
    const variants: [string, Request, string][] = [
      [
        "tampered body",
        new Request(good.url, {
          method: "POST",
          headers: good.headers,
          body: JSON.stringify({ ...payload, type: "payment.failed" }),
        }),
        "bad_signature",
      ],
      ["wrong secret", await signedRequest(payload, { secret: "ws_not_the_secret" }), "bad_signature"],
      ["stale timestamp", await signedRequest(payload, { timestamp: now - 301 }), "stale_timestamp"],
      ["future timestamp", await signedRequest(payload, { timestamp: now + 301 }), "stale_timestamp"],
      [
        "no signature headers",
        new Request(good.url, { method: "POST", body: JSON.stringify(payload) }),
        "missing_signature",
      ],
      [
        "malformed signature header",
        withHeader(good, "webhook-signature", "v1,not base64!!"),
        "malformed_signature",
      ],
      [
        "legacy header with a bad digest",
        withHeader(
          await signedRequest(payload, { format: "legacy" }),
          "x-whop-signature",
          `t=${now},v1=${"0".repeat(64)}`,
        ),
        "bad_signature",
      ],
      [
        "test-vector secret instead of ours",
        await signedRequest(payload, { secret: TEST_VECTOR_SECRET }),
        "bad_signature",
      ],
    ];
    const before = await rejectionCounts(sql);
    for (const [name, request, reason] of variants) {
      const response = await send(request);
      assert.equal(response.status, 401, name);
      assert.equal((response.body.error as { code: string }).code, reason, name);
    }
    const [stored] = await sql`select count(*)::int as n from public.events where company_id = ${companyId}`;
    assert.equal(stored.n, 0, "nothing of a refused delivery is stored");
    const [company] =
      await sql`select count(*)::int as n from public.companies where company_id = ${companyId}`;
    assert.equal(company.n, 0, "a forged company is not provisioned");
    // Counts are written in batches, at most about a second apart.
    const after = await rejectionCountsOnce(
      sql,
      (counts) => counts.bad_signature - before.bad_signature >= 4,
    );
    assert.equal(after.bad_signature - before.bad_signature, 4);
    assert.equal(after.stale_timestamp - before.stale_timestamp, 2);
  });
});

Deno.test("malformed JSON and envelopes are 400, an oversized body 413", async () => {
  await withWebhookApp(async ({ send }) => {
    const notJson = await send(await signedRequest("{not json", { id: "msg_notjson" }));
    assert.equal(notJson.status, 400);
    assert.equal((notJson.body.error as { code: string }).code, "malformed_json");
    const noType = await send(await signedRequest({ id: "msg_notype", api_version: "v1", data: {} }));
    assert.equal(noType.status, 400);
    assert.equal((noType.body.error as { code: string }).code, "invalid_envelope");
    const huge = await send(await signedRequest({ id: "msg_huge", padding: "x".repeat(300 * 1024) }));
    assert.equal(huge.status, 413);
  }, { WEBHOOK_MAX_BODY_BYTES: String(256 * 1024) });
});

Deno.test("only failed verifications are limited, per source address; a delivery that verifies never is", async () => {
  await withWebhookApp(async ({ send, sql }) => {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: false });
    const companyId = uniqueCompany("limited");
    const before = await rejectionCounts(sql);
    // The address the platform vouches for is the last x-forwarded-for entry here (no gateway);
    // the first entry is the client's own claim.
    const source = `10.2.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const forged = (claimed: string) =>
      signedRequest(paymentEvent("payment.failed", { companyId }), {
        secret: "ws_forger",
        ip: `${claimed}, ${source}`,
      });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await send(await forged(`192.0.2.${i}`)));
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [401, 401, 429, 429],
      "varying claims do not escape",
    );
    assert.equal((answers[2].body.error as { code: string }).code, "rate_limited");

    // Whop's genuine deliveries from that same address, while it is over its limit: all stored.
    for (let i = 0; i < 3; i++) {
      const genuine = await signedRequest(paymentEvent("payment.failed", { companyId }), { ip: source });
      const answer = await send(genuine);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.status, "stored");
    }
    // Another address has a limit of its own.
    const other = await signedRequest("{}", { secret: "ws_x", ip: "10.3.0.1" });
    assert.equal((await send(other)).status, 401);

    // A 429 is counted as the signature failure it was (the ops signature-failure rate sees it).
    const after = await rejectionCountsOnce(
      sql,
      (counts) => counts.bad_signature - before.bad_signature >= 5,
    );
    assert.equal(after.bad_signature - before.bad_signature, 5);
    assert.equal(after.rate_limited_ip ?? 0, before.rate_limited_ip ?? 0, "no rate-limit reason any more");
  }, { WEBHOOK_FAILED_VERIFICATIONS_PER_IP: "2" });
});

Deno.test("a request without a valid signature header is refused before its body is read", async () => {
  await withWebhookApp(async ({ send }) => {
    // A body that never ends: answering at all shows the body was not waited for.
    const endless = () => new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
    const unsigned = new Request("http://functions/whop-webhook", { method: "POST", body: endless() });
    const answer = await send(unsigned);
    assert.equal(answer.status, 401);
    assert.equal((answer.body.error as { code: string }).code, "missing_signature");
    const stale = new Request("http://functions/whop-webhook", {
      method: "POST",
      headers: {
        "webhook-id": "msg_stale",
        "webhook-timestamp": "1000",
        "webhook-signature": `v1,${"A".repeat(43)}=`,
      },
      body: endless(),
    });
    assert.equal((await send(stale)).status, 401);
  });
});

Deno.test("a company's burst of signed deliveries is never refused, even with the old per-company limit set", async () => {
  await withWebhookApp(async ({ send, sql }) => {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: false });
    const companyId = uniqueCompany("burst");
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const delivery = await signedRequest(
        paymentEvent("payment.succeeded", { companyId, membershipId: `mem_burst${i}` }),
      );
      statuses.push((await send(delivery)).status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200]);
    const [stored] = await sql`select count(*)::int as n from public.events where company_id = ${companyId}`;
    assert.equal(stored.n, 6);
  }, { WEBHOOK_RATE_LIMIT_PER_COMPANY: "3", WEBHOOK_RATE_LIMIT_PER_IP: "1" });
});

function withHeader(request: Request, name: string, value: string) {
  const headers = new Headers(request.headers);
  headers.set(name, value);
  return new Request(request.url, { method: "POST", headers, body: request.clone().body });
}

type OwnerSql = Parameters<Parameters<typeof withWebhookApp>[0]>[0]["sql"];

/** The counts once `ready` holds for them (they are written in batches), or after 5 s whatever they are. */
async function rejectionCountsOnce(sql: OwnerSql, ready: (counts: Record<string, number>) => boolean) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const counts = await rejectionCounts(sql);
    if (ready(counts) || Date.now() > deadline) return counts;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function rejectionCounts(sql: OwnerSql) {
  const rows = await sql`select reason, sum(count)::int as n from public.webhook_rejections group by reason`;
  const counts: Record<string, number> = { bad_signature: 0, stale_timestamp: 0 };
  for (const row of rows) counts[row.reason] = row.n;
  return counts;
}
