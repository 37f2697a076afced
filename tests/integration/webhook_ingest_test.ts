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
    const after = await rejectionCounts(sql);
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

Deno.test("rate limits: per address before verification, per company only after it", async () => {
  await withWebhookApp(async ({ send, sql }) => {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: false });
    const victim = uniqueCompany("victim");
    // Forged deliveries naming the victim company do not spend its quota.
    for (let i = 0; i < 5; i++) {
      const forged = await signedRequest(paymentEvent("payment.failed", { companyId: victim }), {
        secret: "ws_forger",
        ip: "10.0.0.9",
      });
      assert.equal((await send(forged)).status, 401);
    }
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (await send(
          await signedRequest(paymentEvent("payment.failed", { companyId: victim }), { ip: `10.1.0.${i}` }),
        )).status,
      );
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  }, { WEBHOOK_RATE_LIMIT_PER_COMPANY: "3" });

  await withWebhookApp(async ({ send }) => {
    const ip = `10.2.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await send(await signedRequest("{}", { secret: "ws_x", ip }))).status);
    }
    assert.deepEqual(
      statuses,
      [401, 401, 429, 429],
      "the address limit applies before the signature is even checked",
    );
  }, { WEBHOOK_RATE_LIMIT_PER_IP: "2" });
});

function withHeader(request: Request, name: string, value: string) {
  const headers = new Headers(request.headers);
  headers.set(name, value);
  return new Request(request.url, { method: "POST", headers, body: request.clone().body });
}

async function rejectionCounts(sql: Parameters<Parameters<typeof withWebhookApp>[0]>[0]["sql"]) {
  const rows = await sql`select reason, sum(count)::int as n from public.webhook_rejections group by reason`;
  const counts: Record<string, number> = { bad_signature: 0, stale_timestamp: 0 };
  for (const row of rows) counts[row.reason] = row.n;
  return counts;
}
