// Webhook normalisation against the payloads Whop really sends (built by the sandbox's builders):
// every churn-relevant type in v1 and, where it exists, legacy v5; the money and naming rules; each
// validation failure; and a fuzz loop proving bad input only ever surfaces as EnvelopeError.
import assert from "node:assert/strict";
import type { Whop } from "@whop/sdk";
import {
  CHURN_EVENT_TYPES,
  EnvelopeError,
  type NormalizedEvent,
  normalizeEventName,
  normalizeWebhook,
  toMinorUnits,
} from "../../supabase/functions/_shared/whop/normalize.ts";
import {
  invoiceEvent,
  legacyEvent,
  manageUrlFor,
  membershipEvent,
  paymentEvent,
  paymentObject,
  recoveryUrlFor,
  webhookEnvelope,
  type WhopPayment,
} from "../../whop-sandbox/payloads.ts";

const AT = "2026-11-20T09:30:00.000Z";
const AT_S = Date.parse(AT) / 1000;
const DAY_S = 86_400;

const EMAIL = "jane.doe@example.com";
const NAME = "Jane Doe";
const PARTY = {
  companyId: "biz_TestCompany01",
  companyTitle: "Test Creator Co",
  userId: "user_Test00000001",
  email: EMAIL,
  name: NAME,
  username: "janedoe",
  productId: "prod_Test0000001",
  planId: "plan_Test000001",
};
const MEMBER = { email: EMAIL, name: NAME, username: "janedoe" };
const NO_MEMBER = { email: null, name: null, username: null };
const MEMBERSHIP_ID = "mem_Test00000001";
const PAYMENT_ID = "pay_Test00000001";
/** Whop's next retry and a membership's period end, fixed so the expectations can name them. */
const NEXT_ATTEMPT = "2026-11-21T09:30:00.000Z";
const PERIOD_END = "2026-12-20T09:30:00.000Z";

type Json = Record<string, unknown>;

/** Through JSON, as the webhook function sees it. */
function roundTrip<T>(value: T): Json {
  return JSON.parse(JSON.stringify(value));
}

function normalizeV1(body: unknown, webhookId: string | null = null): Promise<NormalizedEvent> {
  return normalizeWebhook(body, { format: "v1", webhookId, rawBody: JSON.stringify(body) });
}

function normalizeLegacy(body: unknown): Promise<NormalizedEvent> {
  return normalizeWebhook(body, { format: "legacy", webhookId: null, rawBody: JSON.stringify(body) });
}

async function legacyHashId(body: unknown): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(body)));
  const hex = Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `legacy_${hex.slice(0, 32)}`;
}

/** Every field at null/empty, so each case spells out only what it sets. */
function expected(fields: Partial<NormalizedEvent> & Pick<NormalizedEvent, "id" | "type">): NormalizedEvent {
  return {
    format: "v1",
    apiVersion: "v1",
    rawType: fields.type,
    companyId: PARTY.companyId,
    companyTitle: null,
    occurredAt: AT,
    occurredAtField: "timestamp",
    membershipId: null,
    userId: PARTY.userId,
    paymentId: null,
    productId: null,
    productTitle: null,
    amountMinor: null,
    currency: null,
    cancelAtPeriodEnd: null,
    recoveryUrl: null,
    manageUrl: null,
    member: MEMBER,
    billingReason: null,
    failureMessage: null,
    paymentsFailed: null,
    nextPaymentAttempt: null,
    membershipStatus: null,
    cancelOption: null,
    cancellationReason: null,
    renewalPeriodEnd: null,
    ...fields,
  };
}

// ---- v1: every churn-relevant type ------------------------------------------------------------

const PAYMENT_TYPES = ["payment.failed", "payment.succeeded", "payment.pending", "payment.requires_action"];

const withRecovery = (type: string) => type === "payment.failed" || type === "payment.requires_action";
/** The membership status the sandbox's payments nest for each outcome (as Whop's do). */
const PAYMENT_MEMBERSHIP_STATUS: Record<string, string> = {
  "payment.failed": "past_due",
  "payment.succeeded": "active",
  "payment.pending": "active",
  "payment.requires_action": "past_due",
};

for (const type of PAYMENT_TYPES) {
  Deno.test(`v1 ${type}: every field`, async () => {
    const body = roundTrip(paymentEvent(type, {
      ...PARTY,
      eventId: "msg_Payment000000000000001",
      timestamp: AT,
      paymentId: PAYMENT_ID,
      membershipId: MEMBERSHIP_ID,
      amount: 29.99,
      nextPaymentAttempt: NEXT_ATTEMPT,
      // The builders leave recovery_url out as Whop does; a test that wants one asks for it.
      ...(withRecovery(type) ? { recoveryUrl: recoveryUrlFor(PAYMENT_ID) } : {}),
    }));
    const failed = type === "payment.failed";
    assert.deepEqual(
      await normalizeV1(body),
      expected({
        id: "msg_Payment000000000000001",
        type,
        companyTitle: PARTY.companyTitle,
        membershipId: MEMBERSHIP_ID,
        paymentId: PAYMENT_ID,
        productId: PARTY.productId,
        productTitle: "Pro Membership",
        amountMinor: 2999,
        currency: "usd",
        recoveryUrl: withRecovery(type) ? recoveryUrlFor(PAYMENT_ID) : null,
        billingReason: "subscription_cycle",
        failureMessage: failed ? "Your card has insufficient funds." : null,
        paymentsFailed: failed ? 1 : 0,
        nextPaymentAttempt: NEXT_ATTEMPT,
        membershipStatus: PAYMENT_MEMBERSHIP_STATUS[type],
      }),
    );
  });
}

/** The status the sandbox's memberships have for each event (as Whop's do). */
const MEMBERSHIP_STATUS: Record<string, string> = {
  "membership.activated": "active",
  "membership.deactivated": "canceled",
  "membership.cancel_at_period_end_changed": "active",
  "membership.updated": "active",
  "membership.trial_ending_soon": "trialing",
};

const MEMBERSHIP_TYPES = [
  "membership.activated",
  "membership.deactivated",
  "membership.cancel_at_period_end_changed",
  "membership.updated",
  "membership.trial_ending_soon",
];

for (const type of MEMBERSHIP_TYPES) {
  Deno.test(`v1 ${type}: every field`, async () => {
    const cancel = type === "membership.cancel_at_period_end_changed";
    const body = roundTrip(membershipEvent(type, {
      ...PARTY,
      eventId: "msg_Membership0000000000001",
      timestamp: AT,
      membershipId: MEMBERSHIP_ID,
      renewalPeriodEnd: PERIOD_END,
      ...(type === "membership.updated" ? { previousAttributes: { status: "trialing" } } : {}),
      ...(cancel ? { cancelOption: "too_expensive", cancellationReason: "  Too pricey\nfor me  " } : {}),
    }));
    assert.deepEqual(
      await normalizeV1(body),
      expected({
        id: "msg_Membership0000000000001",
        type,
        companyTitle: PARTY.companyTitle,
        membershipId: MEMBERSHIP_ID,
        productId: PARTY.productId,
        productTitle: "Pro Membership",
        cancelAtPeriodEnd: cancel,
        manageUrl: manageUrlFor(MEMBERSHIP_ID),
        membershipStatus: MEMBERSHIP_STATUS[type],
        cancelOption: cancel ? "too_expensive" : null,
        // The member's words on one line.
        cancellationReason: cancel ? "Too pricey for me" : null,
        renewalPeriodEnd: PERIOD_END,
      }),
    );
  });
}

for (const type of ["invoice.past_due", "invoice.paid"]) {
  Deno.test(`v1 ${type}: every field (amount = line items, email = email_address)`, async () => {
    const body = roundTrip(invoiceEvent(type, {
      ...PARTY,
      eventId: "msg_Invoice00000000000000001",
      timestamp: AT,
      invoiceId: "inv_Test00000001",
      amount: 49.5,
      currency: "eur",
    }));
    assert.deepEqual(
      await normalizeV1(body),
      expected({ id: "msg_Invoice00000000000000001", type, amountMinor: 4950, currency: "eur" }),
    );
  });
}

/** The subset of a Payment that Whop nests in refunds and disputes, taken from the sandbox's Payment. */
function nestedPayment(payment: WhopPayment) {
  const { id, billing_reason, card_brand, card_last4, created_at, currency, dispute_alerted_at, member } =
    payment;
  const { membership, paid_at, payment_method_type, subtotal, total, usd_total, user } = payment;
  return {
    id,
    billing_reason,
    card_brand,
    card_last4,
    created_at,
    currency,
    dispute_alerted_at,
    member,
    membership: membership && { id: membership.id, status: membership.status },
    paid_at,
    payment_method_type,
    subtotal,
    total,
    usd_total,
    user,
  };
}

function paymentForChargeback(): WhopPayment {
  return paymentObject({ ...PARTY, paymentId: PAYMENT_ID, membershipId: MEMBERSHIP_ID, amount: 29.99 });
}

Deno.test("v1 refund.created: payment, membership and member come from data.payment", async () => {
  const payment = paymentForChargeback();
  const data = {
    id: "rfnd_Test0000001",
    amount: 10,
    created_at: AT,
    currency: "usd",
    payment: {
      ...nestedPayment(payment),
      metadata: null,
      plan: { id: PARTY.planId, metadata: {} },
      product: { id: PARTY.productId, metadata: {} },
      tax_amount: 0,
      tax_behavior: null,
      tax_refunded_amount: null,
    },
    provider: "stripe",
    provider_created_at: AT,
    reference_status: null,
    reference_type: null,
    reference_value: null,
    status: "succeeded",
  } satisfies Whop.RefundCreatedWebhookEvent["data"];
  const body = roundTrip(webhookEnvelope("refund.created", data, PARTY.companyId, {
    eventId: "msg_Refund0000000000000001",
    timestamp: AT,
  }));
  assert.deepEqual(
    await normalizeV1(body),
    expected({
      id: "msg_Refund0000000000000001",
      type: "refund.created",
      membershipId: MEMBERSHIP_ID,
      paymentId: PAYMENT_ID,
      productId: PARTY.productId,
      amountMinor: 1000,
      currency: "usd",
    }),
  );
});

Deno.test("v1 dispute.created: disputed amount, company title, product and payment", async () => {
  const payment = paymentForChargeback();
  const data = {
    id: "dspt_Test0000001",
    access_activity_log: null,
    amount: 29.99,
    billing_address: null,
    cancellation_policy_attachment: null,
    cancellation_policy_disclosure: null,
    company: { id: PARTY.companyId, title: PARTY.companyTitle },
    created_at: AT,
    currency: "usd",
    customer_communication_attachment: null,
    customer_email_address: EMAIL,
    customer_name: NAME,
    editable: true,
    needs_response_by: null,
    notes: null,
    payment: nestedPayment(payment),
    plan: { id: PARTY.planId },
    product: { id: PARTY.productId, title: "Pro Membership" },
    product_description: null,
    reason: "fraudulent",
    refund_policy_attachment: null,
    refund_policy_disclosure: null,
    refund_refusal_explanation: null,
    service_date: null,
    status: "needs_response",
    uncategorized_attachment: null,
    visa_rdr: false,
  } satisfies Whop.Dispute;
  const body = roundTrip(webhookEnvelope("dispute.created", data, PARTY.companyId, {
    eventId: "msg_Dispute000000000000001",
    timestamp: AT,
  }));
  assert.deepEqual(
    await normalizeV1(body),
    expected({
      id: "msg_Dispute000000000000001",
      type: "dispute.created",
      companyTitle: PARTY.companyTitle,
      membershipId: MEMBERSHIP_ID,
      paymentId: PAYMENT_ID,
      productId: PARTY.productId,
      productTitle: "Pro Membership",
      amountMinor: 2999,
      currency: "usd",
    }),
  );
});

Deno.test("the tests above cover every churn-relevant type", () => {
  const covered = [
    ...PAYMENT_TYPES,
    ...MEMBERSHIP_TYPES,
    "invoice.past_due",
    "invoice.paid",
    "refund.created",
    "dispute.created",
  ];
  assert.deepEqual([...covered].sort(), [...CHURN_EVENT_TYPES].sort());
});

// ---- v1: ids and where the company comes from ---------------------------------------------------

Deno.test("v1 id: the webhook-id header wins over body.id; body.id without a header", async () => {
  const body = roundTrip(paymentEvent("payment.failed", { ...PARTY, eventId: "msg_Body", timestamp: AT }));
  assert.equal((await normalizeV1(body, "msg_Header")).id, "msg_Header");
  assert.equal((await normalizeV1(body, "")).id, "msg_Body");
  assert.equal((await normalizeV1(body, null)).id, "msg_Body");
});

Deno.test("account_id (API version 2026-08-14) instead of company_id", async () => {
  const body = roundTrip(
    paymentEvent("payment.failed", { ...PARTY, timestamp: AT, apiVersionDate: "2026-08-14" }),
  );
  assert.equal(body.company_id, undefined);
  assert.equal(body.account_id, PARTY.companyId);
  const event = await normalizeV1(body);
  assert.equal(event.companyId, PARTY.companyId);
  assert.equal(event.apiVersion, "v1");
});

Deno.test("company only in data.company.id (envelope company_id null or absent)", async () => {
  const withNull = roundTrip(
    webhookEnvelope("payment.failed", paymentForChargeback(), null, { timestamp: AT }),
  );
  assert.equal(withNull.company_id, null);
  assert.equal((await normalizeV1(withNull)).companyId, PARTY.companyId);
  const without = roundTrip(membershipEvent("membership.deactivated", { ...PARTY, timestamp: AT }));
  delete without.company_id;
  assert.equal((await normalizeV1(without)).companyId, PARTY.companyId);
});

Deno.test("one-time payment: membership null gives membershipId null", async () => {
  const body = roundTrip(paymentEvent("payment.succeeded", { ...PARTY, timestamp: AT, membershipId: null }));
  assert.equal((body.data as Json).membership, null);
  const event = await normalizeV1(body);
  assert.equal(event.membershipId, null);
  assert.equal(event.amountMinor, 2999);
});

Deno.test("unknown types are kept (lowercased, trimmed) with only the company read", async () => {
  const body = roundTrip(
    webhookEnvelope(" Entry.Created ", { id: "entry_1", user: "not an object" }, PARTY.companyId, {
      timestamp: AT,
      eventId: "msg_Unknown",
    }),
  );
  assert.deepEqual(
    await normalizeV1(body),
    expected({
      id: "msg_Unknown",
      type: "entry.created",
      rawType: " Entry.Created ",
      userId: null,
      member: NO_MEMBER,
    }),
  );
});

Deno.test("product titles: text is kept (one line, at most 200 characters); anything else is no title, not an error", async () => {
  const withTitle = async (title: unknown) => {
    const body = roundTrip(
      paymentEvent("payment.failed", { ...PARTY, eventId: "msg_ProductTitle0000000001" }),
    );
    (body.data as Json).product = { id: PARTY.productId, title };
    return (await normalizeV1(body)).productTitle;
  };
  assert.equal(await withTitle("  Pro\n Traders  "), "Pro Traders");
  assert.equal(await withTitle("x".repeat(500)), "x".repeat(200));
  for (const odd of [42, { en: "Pro" }, null, "   "]) {
    assert.equal(await withTitle(odd), null, JSON.stringify(odd));
  }
});

Deno.test("churn fields: texts clipped to one storable line, codes and counts checked, odd values null, never an error", async () => {
  const payment = async (over: Json) => {
    const body = roundTrip(
      paymentEvent("payment.failed", { ...PARTY, eventId: "msg_ChurnFields0000000001" }),
    );
    Object.assign(body.data as Json, over);
    return await normalizeV1(body);
  };
  const long = await payment({ failure_message: `Declined:\u0000 ${"é".repeat(600)}\ud800` });
  assert.equal(long.failureMessage, `Declined: ${"é".repeat(490)}`, "500 characters, NUL gone");
  assert.equal((await payment({ failure_message: 42 })).failureMessage, null);
  assert.equal((await payment({ failure_message: " \t\n " })).failureMessage, null);
  assert.equal(
    (await payment({ billing_reason: " Subscription_Cycle " })).billingReason,
    "subscription_cycle",
  );
  for (const odd of ["renewal!", "a b", "x".repeat(41), 7, { code: "manual" }, ""]) {
    assert.equal((await payment({ billing_reason: odd })).billingReason, null, JSON.stringify(odd));
  }
  for (
    const [value, count] of [[3, 3], ["3", 3], [0, 0], [-1, null], [1.5, null], [1e9, null], ["x", null]]
  ) {
    assert.equal((await payment({ payments_failed: value })).paymentsFailed, count, JSON.stringify(value));
  }
  for (
    const [value, iso] of [
      [AT_S + DAY_S, NEXT_ATTEMPT],
      [String(AT_S + DAY_S), NEXT_ATTEMPT],
      ["2026-11-21 11:30:00 +0200", NEXT_ATTEMPT],
      ["tomorrow", null],
      [1, null],
      [Number.MAX_SAFE_INTEGER, null],
      [true, null],
    ] as const
  ) {
    assert.equal((await payment({ next_payment_attempt: value })).nextPaymentAttempt, iso, String(value));
  }
  assert.equal(
    (await payment({ membership: { id: MEMBERSHIP_ID, status: "Past Due" } })).membershipStatus,
    null,
  );

  const membership = async (over: Json) => {
    const body = roundTrip(membershipEvent("membership.cancel_at_period_end_changed", { ...PARTY }));
    Object.assign(body.data as Json, over);
    return await normalizeV1(body);
  };
  const reason = await membership({ cancellation_reason: "x".repeat(5000), cancel_option: "other" });
  assert.equal(reason.cancellationReason, "x".repeat(1000));
  assert.equal(reason.cancelOption, "other");
  assert.equal((await membership({ cancellation_reason: ["no"] })).cancellationReason, null);
  assert.equal((await membership({ renewal_period_end: "2099-13-40T00:00:00Z" })).renewalPeriodEnd, null);
  assert.equal((await membership({ status: null })).membershipStatus, null);
});

Deno.test("links: only http(s) URLs are kept, anything else becomes null", async () => {
  const body = roundTrip(paymentEvent("payment.failed", { ...PARTY, timestamp: AT }));
  const data = body.data as Json;
  for (const bad of ["javascript:alert(1)", "/relative/path", "not a url", "ftp://whop.com/x"]) {
    data.recovery_url = bad;
    assert.equal((await normalizeV1(body)).recoveryUrl, null, bad);
  }
  data.recovery_url = "http://whop.com/billing/recover/pay_1";
  assert.equal((await normalizeV1(body)).recoveryUrl, "http://whop.com/billing/recover/pay_1");
});

// ---- legacy v5 ----------------------------------------------------------------------------------

for (
  const action of [
    "payment.failed",
    "payment.succeeded",
    "app_payment.failed",
    "app_payment.succeeded",
    "payment_failed",
  ]
) {
  Deno.test(`legacy ${action}: every field`, async () => {
    const failed = action.includes("fail");
    const body = roundTrip(legacyEvent(action, {
      ...PARTY,
      id: PAYMENT_ID,
      membershipId: MEMBERSHIP_ID,
      amount: 29.99,
      createdAt: AT_S - 3600,
      extra: {
        last_payment_attempt: AT_S,
        paid_at: failed ? null : AT_S,
        next_payment_attempt: failed ? AT_S + DAY_S : null,
      },
    }));
    assert.deepEqual(
      await normalizeLegacy(body),
      expected({
        id: await legacyHashId(body),
        format: "legacy",
        apiVersion: "v5",
        rawType: action,
        type: failed ? "payment.failed" : "payment.succeeded",
        // The latest activity time stands in for the event time; a tie keeps the earlier-listed field.
        occurredAtField: failed ? "data.last_payment_attempt" : "data.paid_at",
        membershipId: MEMBERSHIP_ID,
        paymentId: PAYMENT_ID,
        productId: PARTY.productId,
        amountMinor: 2999,
        currency: "usd",
        member: NO_MEMBER,
        billingReason: "subscription_cycle",
        failureMessage: failed ? "Your card has insufficient funds." : null,
        paymentsFailed: failed ? 1 : 0,
        // Unix seconds, as v5 sends them.
        nextPaymentAttempt: failed ? NEXT_ATTEMPT : null,
      }),
    );
  });
}

const LEGACY_MEMBERSHIP_ACTIONS: Record<string, string> = {
  "membership.went_valid": "membership.activated",
  "membership.went_invalid": "membership.deactivated",
  "app_membership.went_valid": "membership.activated",
  "app_membership.went_invalid": "membership.deactivated",
  "app_membership.cancel_at_period_end_changed": "membership.cancel_at_period_end_changed",
  "membership_went_valid": "membership.activated",
};

for (const [action, type] of Object.entries(LEGACY_MEMBERSHIP_ACTIONS)) {
  Deno.test(`legacy ${action}: every field`, async () => {
    const cancel = action.includes("cancel_at_period_end");
    const body = roundTrip(legacyEvent(action, {
      ...PARTY,
      id: MEMBERSHIP_ID,
      createdAt: AT_S - 30 * DAY_S,
      cancelAtPeriodEnd: cancel,
      renewalPeriodEnd: Date.parse(PERIOD_END) / 1000,
      ...(cancel ? { cancelOption: "switching" as const } : {}),
      extra: { updated_at: AT_S },
    }));
    assert.deepEqual(
      await normalizeLegacy(body),
      expected({
        id: await legacyHashId(body),
        format: "legacy",
        apiVersion: "v5",
        rawType: action,
        type,
        occurredAtField: "data.updated_at",
        membershipId: MEMBERSHIP_ID,
        productId: PARTY.productId,
        cancelAtPeriodEnd: cancel,
        manageUrl: manageUrlFor(MEMBERSHIP_ID),
        member: { email: EMAIL, name: null, username: null },
        membershipStatus: type === "membership.deactivated" ? "expired" : "active",
        cancelOption: cancel ? "switching" : null,
        renewalPeriodEnd: PERIOD_END,
      }),
    );
  });
}

Deno.test("legacy id: body.id when it is a string, else a hash of the exact raw body", async () => {
  const body = roundTrip(legacyEvent("payment.failed", { ...PARTY, createdAt: AT_S }));
  const hashed = await normalizeLegacy(body);
  assert.match(hashed.id, /^legacy_[0-9a-f]{32}$/);
  assert.equal((await normalizeLegacy(roundTrip(body))).id, hashed.id, "a retry of the same bytes dedupes");
  const otherBytes = await normalizeWebhook(body, {
    format: "legacy",
    webhookId: null,
    rawBody: JSON.stringify(body, null, 2),
  });
  assert.notEqual(otherBytes.id, hashed.id);
  assert.equal((await normalizeLegacy({ ...body, id: "evt_Legacy1" })).id, "evt_Legacy1");
  const numericId = { ...body, id: 12345 };
  assert.equal(
    (await normalizeLegacy(numericId)).id,
    await legacyHashId(numericId),
    "a non-string id is hashed",
  );
});

Deno.test("legacy occurredAt: top-level timestamp, else the latest activity time, else created_at", async () => {
  const membership = roundTrip(
    legacyEvent("membership.went_invalid", { ...PARTY, createdAt: AT_S - 30 * DAY_S }),
  );
  const fromCreated = await normalizeLegacy(membership);
  assert.equal(fromCreated.occurredAtField, "data.created_at");
  assert.equal(fromCreated.occurredAt, new Date((AT_S - 30 * DAY_S) * 1000).toISOString());

  const stamped = await normalizeLegacy({ ...membership, timestamp: AT_S });
  assert.deepEqual([stamped.occurredAt, stamped.occurredAtField], [AT, "timestamp"]);
  const isoStamped = await normalizeLegacy({ ...membership, timestamp: AT });
  assert.deepEqual([isoStamped.occurredAt, isoStamped.occurredAtField], [AT, "timestamp"]);
});

// ---- money ----------------------------------------------------------------------------------------

Deno.test("toMinorUnits: currency exponents, decimal strings, no float drift", () => {
  const cases: [number | string, string, number][] = [
    [29.99, "usd", 2999],
    ["29.99", "USD", 2999],
    [500, "jpy", 500],
    ["500", "jpy", 500],
    [1.234, "kwd", 1234],
    ["1.234", "kwd", 1234],
    [0.1 + 0.2, "usd", 30],
    [1.005, "usd", 101],
    [19.999, "jpy", 20],
    [0, "eur", 0],
    ["0007.5", "eur", 750],
    [1e-7, "usd", 0],
    [4.35, "usd", 435],
    [1.15, "usd", 115],
    ["90071992547409.91", "usd", 9007199254740991],
  ];
  for (const [amount, currency, minor] of cases) {
    assert.equal(toMinorUnits(amount, currency), minor, `${amount} ${currency}`);
  }
});

Deno.test("toMinorUnits: bad amounts and currencies are EnvelopeErrors", () => {
  const bad: [number | string, string, RegExp][] = [
    [-1, "usd", /^amount: must not be negative/],
    ["-1.00", "usd", /^amount: must not be negative/],
    [Number.NaN, "usd", /^amount: must be a finite number/],
    [Number.POSITIVE_INFINITY, "usd", /^amount: must be a finite number/],
    ["1e3", "usd", /^amount: must be a decimal number/],
    ["", "usd", /^amount: must be a decimal number/],
    ["12,50", "eur", /^amount: must be a decimal number/],
    [1e20, "usd", /^amount: is too large/],
    ["90071992547409.92", "usd", /^amount: is too large/],
    [1, "xyz", /^currency: is not a known currency code/],
    [1, "btc", /^currency: has no minor unit/],
  ];
  for (const [amount, currency, message] of bad) {
    assert.throws(
      () => toMinorUnits(amount, currency),
      (e) => e instanceof EnvelopeError && message.test(e.message),
    );
  }
});

Deno.test("payment amounts: total in its currency, usd_total fallback, crypto without a USD total", async () => {
  const event = (o: Parameters<typeof paymentEvent>[1]) =>
    normalizeV1(roundTrip(paymentEvent("payment.failed", { ...PARTY, timestamp: AT, ...o })));
  const money = (e: NormalizedEvent) => [e.amountMinor, e.currency];
  assert.deepEqual(money(await event({ amount: 500, currency: "jpy" })), [500, "jpy"]);
  assert.deepEqual(money(await event({ amount: 1.234, currency: "kwd" })), [1234, "kwd"]);

  const stringTotal = roundTrip(paymentEvent("payment.failed", { ...PARTY, timestamp: AT }));
  (stringTotal.data as Json).total = "12.34";
  assert.deepEqual(money(await normalizeV1(stringTotal)), [1234, "usd"]);

  const noTotal = roundTrip(
    paymentEvent("payment.failed", { ...PARTY, timestamp: AT, amount: 10, usdTotal: 11.5 }),
  );
  (noTotal.data as Json).total = null;
  assert.deepEqual(money(await normalizeV1(noTotal)), [1150, "usd"]);

  assert.deepEqual(money(await event({ amount: 0.01, currency: "btc", usdTotal: 950.25 })), [95025, "usd"]);
  assert.deepEqual(money(await event({ amount: 0.01, currency: "btc", usdTotal: null })), [null, null]);

  const nothing = roundTrip(paymentEvent("payment.failed", { ...PARTY, timestamp: AT }));
  Object.assign(nothing.data as Json, { total: null, usd_total: null });
  assert.deepEqual(money(await normalizeV1(nothing)), [null, null]);
});

// ---- event names ----------------------------------------------------------------------------------

Deno.test("normalizeEventName: every spelling Whop has used", () => {
  const table: Record<string, string> = {
    "payment.failed": "payment.failed",
    "payment.requires_action": "payment.requires_action",
    "membership.cancel_at_period_end_changed": "membership.cancel_at_period_end_changed",
    "payment_failed": "payment.failed",
    "payment_succeeded": "payment.succeeded",
    "payment_requires_action": "payment.requires_action",
    "membership_went_valid": "membership.activated",
    "membership_went_invalid": "membership.deactivated",
    "membership_cancel_at_period_end_changed": "membership.cancel_at_period_end_changed",
    "membership_trial_ending_soon": "membership.trial_ending_soon",
    "invoice_past_due": "invoice.past_due",
    "invoice_paid": "invoice.paid",
    "refund_created": "refund.created",
    "dispute_created": "dispute.created",
    "membership.went_valid": "membership.activated",
    "membership.went_invalid": "membership.deactivated",
    "app_payment.failed": "payment.failed",
    "app_payment.succeeded": "payment.succeeded",
    "app_payment_failed": "payment.failed",
    "app_membership.went_valid": "membership.activated",
    "app_membership.went_invalid": "membership.deactivated",
    "app_membership.cancel_at_period_end_changed": "membership.cancel_at_period_end_changed",
    "app_membership_went_valid": "membership.activated",
    "PAYMENT_FAILED": "payment.failed",
    "Membership.Went_Valid": "membership.activated",
    "  payment.failed\n": "payment.failed",
    "dispute_alert.created": "dispute_alert.created",
    "dispute_alert_created": "dispute_alert.created",
    "Entry.Created": "entry.created",
    "setup_intent.succeeded": "setup_intent.succeeded",
    "something_new": "something_new",
    "payment_": "payment_",
    "": "",
  };
  for (const [input, output] of Object.entries(table)) {
    assert.equal(normalizeEventName(input), output, JSON.stringify(input));
  }
});

// ---- validation failures -------------------------------------------------------------------------

function basePayment(): Json {
  return roundTrip(paymentEvent("payment.failed", { ...PARTY, timestamp: AT }));
}

function baseMembership(): Json {
  return roundTrip(membershipEvent("membership.updated", { ...PARTY, timestamp: AT }));
}

function baseLegacy(): Json {
  return roundTrip(legacyEvent("membership.went_invalid", { ...PARTY, createdAt: AT_S }));
}

/** Applies `change` to a copy of `base()`; `data` is the copy's data object. */
function mutated(base: () => Json, change: (body: Json, data: Json) => void): Json {
  const body = base();
  change(body, body.data as Json);
  return body;
}

const NEXT_WEEK = new Date(Date.now() + 7 * DAY_S * 1000).toISOString();

const FAILURES: [string, "v1" | "legacy", unknown, string][] = [
  ["body is an array", "v1", [], "body"],
  ["body is null", "v1", null, "body"],
  ["body is a string", "legacy", "payment.failed", "body"],
  ["type missing", "v1", mutated(basePayment, (b) => delete b.type), "type"],
  ["type a number", "v1", mutated(basePayment, (b) => b.type = 7), "type"],
  ["type too long", "v1", mutated(basePayment, (b) => b.type = "p".repeat(101)), "type"],
  ["type blank", "v1", mutated(basePayment, (b) => b.type = "   "), "type"],
  ["api_version missing", "v1", mutated(basePayment, (b) => delete b.api_version), "api_version"],
  ["data missing", "v1", mutated(basePayment, (b) => delete b.data), "data"],
  ["data an array", "v1", mutated(basePayment, (b) => b.data = []), "data"],
  ["timestamp not a date", "v1", mutated(basePayment, (b) => b.timestamp = "yesterday"), "timestamp"],
  ["timestamp Feb 30", "v1", mutated(basePayment, (b) => b.timestamp = "2026-02-30T00:00:00Z"), "timestamp"],
  [
    "timestamp before 2015",
    "v1",
    mutated(basePayment, (b) => b.timestamp = "2014-12-31T23:59:59Z"),
    "timestamp",
  ],
  ["timestamp next week", "v1", mutated(basePayment, (b) => b.timestamp = NEXT_WEEK), "timestamp"],
  ["company_id not biz_", "v1", mutated(basePayment, (b) => b.company_id = "acme"), "company_id"],
  [
    "account_id not biz_",
    "v1",
    mutated(basePayment, (b) => {
      delete b.company_id;
      b.account_id = "biz_bad id";
    }),
    "account_id",
  ],
  [
    "no company anywhere",
    "v1",
    mutated(basePayment, (b, d) => {
      delete b.company_id;
      delete d.company;
    }),
    "company_id",
  ],
  [
    "data.company.id not biz_",
    "v1",
    mutated(basePayment, (b, d) => {
      delete b.company_id;
      (d.company as Json).id = "company_1";
    }),
    "data.company.id",
  ],
  [
    "user.email a number",
    "v1",
    mutated(basePayment, (_b, d) => (d.user as Json).email = 42),
    "data.user.email",
  ],
  [
    "user.name too long",
    "v1",
    mutated(basePayment, (_b, d) => (d.user as Json).name = NAME.repeat(50)),
    "data.user.name",
  ],
  [
    "membership an array",
    "v1",
    mutated(basePayment, (_b, d) => d.membership = [MEMBERSHIP_ID]),
    "data.membership",
  ],
  [
    "membership.id too long",
    "v1",
    mutated(basePayment, (_b, d) => (d.membership as Json).id = "m".repeat(201)),
    "data.membership.id",
  ],
  ["data.id an object", "v1", mutated(basePayment, (_b, d) => d.id = { id: PAYMENT_ID }), "data.id"],
  ["total negative", "v1", mutated(basePayment, (_b, d) => d.total = -29.99), "data.total"],
  ["total not a number", "v1", mutated(basePayment, (_b, d) => d.total = "twenty"), "data.total"],
  ["total a boolean", "v1", mutated(basePayment, (_b, d) => d.total = true), "data.total"],
  ["total absurd", "v1", mutated(basePayment, (_b, d) => d.total = 1e300), "data.total"],
  ["currency unknown", "v1", mutated(basePayment, (_b, d) => d.currency = "xyz"), "data.currency"],
  [
    "currency missing with total",
    "v1",
    mutated(basePayment, (_b, d) => {
      d.currency = null;
      d.usd_total = null;
    }),
    "data.currency",
  ],
  [
    "recovery_url too long",
    "v1",
    mutated(basePayment, (_b, d) => d.recovery_url = `https://w.com/${"a".repeat(2000)}`),
    "data.recovery_url",
  ],
  [
    "cancel_at_period_end a string",
    "v1",
    mutated(baseMembership, (_b, d) => d.cancel_at_period_end = "yes"),
    "data.cancel_at_period_end",
  ],
  ["action missing", "legacy", mutated(baseLegacy, (b) => delete b.action), "action"],
  [
    "legacy without any time",
    "legacy",
    mutated(baseLegacy, (_b, d) => {
      for (const key of ["created_at", "updated_at"]) delete d[key];
    }),
    "data.created_at",
  ],
  [
    "legacy created_at in milliseconds",
    "legacy",
    mutated(baseLegacy, (_b, d) => d.created_at = AT_S * 1000),
    "data.created_at",
  ],
  ["legacy email an array", "legacy", mutated(baseLegacy, (_b, d) => d.email = [EMAIL]), "data.email"],
  [
    "legacy final_amount negative",
    "legacy",
    roundTrip(legacyEvent("payment.failed", { ...PARTY, createdAt: AT_S, amount: -5 })),
    "data.final_amount",
  ],
  ["legacy id too long", "legacy", mutated(baseLegacy, (b) => b.id = "e".repeat(201)), "id"],
];

for (const [name, format, body, field] of FAILURES) {
  Deno.test(`EnvelopeError naming ${field}: ${name}`, async () => {
    const error = await normalizeWebhook(body, { format, webhookId: null, rawBody: JSON.stringify(body) })
      .then(
        () => assert.fail("expected an EnvelopeError"),
        (e: unknown) => e,
      );
    assert.ok(error instanceof EnvelopeError, `got ${error}`);
    assert.equal(error.field, field);
    assert.ok(error.message.startsWith(`${field}: `), error.message);
    assertNoPii(error.message);
  });
}

Deno.test("EnvelopeError naming webhook-id: header longer than 200 characters", async () => {
  await assert.rejects(
    normalizeV1(basePayment(), "w".repeat(201)),
    (e) => e instanceof EnvelopeError && e.field === "webhook-id",
  );
});

Deno.test("EnvelopeError naming id: no webhook-id header and no body id", async () => {
  const body = basePayment();
  delete body.id;
  await assert.rejects(normalizeV1(body, null), (e) => e instanceof EnvelopeError && e.field === "id");
});

function assertNoPii(message: string): void {
  assert.ok(message.length <= 200, `short message: ${message}`);
  for (const secret of [EMAIL, NAME, "jane", "Jane", "janedoe"]) {
    assert.ok(!message.includes(secret), message);
  }
}

// ---- fuzz: mutated real payloads ------------------------------------------------------------------

/** mulberry32: a seeded generator, so a failure can be replayed from the seed in its message. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type FuzzBase = { format: "v1" | "legacy"; build: () => unknown };
const v1Base = (build: () => unknown): FuzzBase => ({ format: "v1", build });
const legacyBase = (build: () => unknown): FuzzBase => ({ format: "legacy", build });

const FUZZ_BASES: FuzzBase[] = [
  ...PAYMENT_TYPES.map((type) => v1Base(() => paymentEvent(type, { ...PARTY, timestamp: AT }))),
  ...MEMBERSHIP_TYPES.map((type) => v1Base(() => membershipEvent(type, { ...PARTY, timestamp: AT }))),
  v1Base(() => invoiceEvent("invoice.past_due", { ...PARTY, timestamp: AT })),
  v1Base(() =>
    paymentEvent("payment.succeeded", { ...PARTY, membershipId: null, apiVersionDate: "2026-08-14" })
  ),
  legacyBase(() => legacyEvent("payment.failed", PARTY)),
  legacyBase(() => legacyEvent("app_payment.succeeded", PARTY)),
  legacyBase(() => legacyEvent("membership.went_invalid", PARTY)),
  legacyBase(() => legacyEvent("app_membership.went_valid", PARTY)),
];

const HUGE = "x".repeat(100_000);
const WEIRD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  true,
  false,
  "",
  " ",
  HUGE,
  "ünïcødé ✓ 🎉 \u202e\u0000 𝔘",
  "biz_",
  "2026-11-20T09:30:00Z",
  "-0.01",
  [],
  [[[[[]]]]],
  [null, 1, "a"],
  {},
  { id: [{}], email: 5 },
  { nested: { deeper: [[{ id: HUGE }]] } },
];

function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object") return [prefix];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [
    prefix,
    ...keys.flatMap((key) => paths((value as Record<string | number, unknown>)[key], [...prefix, key])),
  ];
}

function mutate(body: Json, random: () => number): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  let root: unknown = body;
  const rounds = 1 + Math.floor(random() * 4);
  for (let round = 0; round < rounds; round++) {
    const path = pick(paths(root));
    if (path.length === 0) {
      if (random() < 0.1) root = pick(WEIRD_VALUES);
      continue;
    }
    const parent = path.slice(0, -1).reduce<unknown>(
      (node, key) => (node as Record<string | number, unknown>)[key],
      root,
    );
    if (parent === null || typeof parent !== "object") continue;
    const key = path[path.length - 1];
    const target = parent as Record<string | number, unknown>;
    const action = random();
    if (action < 0.3) delete target[key];
    else if (action < 0.9) target[key] = structuredClone(pick(WEIRD_VALUES));
    else target[key] = [target[key]];
  }
  return root;
}

Deno.test("fuzz: 500 mutated real payloads either normalise or throw EnvelopeError", async () => {
  // Replay or widen a run with NORMALIZE_FUZZ_SEED / NORMALIZE_FUZZ_CASES.
  const seed = Number(Deno.env.get("NORMALIZE_FUZZ_SEED") ?? Date.now() % 1_000_000);
  const cases = Number(Deno.env.get("NORMALIZE_FUZZ_CASES") ?? 500);
  const random = seededRandom(seed);
  let normalised = 0;
  let rejected = 0;
  for (let i = 0; i < cases; i++) {
    const { format, build } = FUZZ_BASES[i % FUZZ_BASES.length];
    const body = mutate(roundTrip(build()), random);
    const rawBody = JSON.stringify(body) ?? "";
    const label = `seed ${seed}, case ${i}`;
    try {
      const event = await normalizeWebhook(JSON.parse(rawBody), { format, webhookId: null, rawBody });
      assertPlausible(event, label);
      normalised++;
    } catch (error) {
      if (!(error instanceof EnvelopeError)) {
        throw new Error(`${label}: unexpected ${error}`, { cause: error });
      }
      assertNoPii(error.message);
      rejected++;
    }
  }
  const share = cases / 10;
  assert.ok(
    normalised > share && rejected > share,
    `both outcomes occur (${normalised} ok, ${rejected} rejected)`,
  );
});

function assertPlausible(event: NormalizedEvent, label: string): void {
  assert.match(event.companyId, /^biz_[A-Za-z0-9_-]{1,64}$/, label);
  assert.equal(new Date(event.occurredAt).toISOString(), event.occurredAt, label);
  assert.ok(event.id.length > 0 && event.id.length <= 200, label);
  assert.equal(event.amountMinor === null, event.currency === null, label);
  if (event.amountMinor !== null) {
    assert.ok(Number.isSafeInteger(event.amountMinor) && event.amountMinor >= 0, label);
  }
  for (const url of [event.recoveryUrl, event.manageUrl]) {
    if (url !== null) assert.match(url, /^https?:\/\//, label);
  }
}
