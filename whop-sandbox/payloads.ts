// Builders for REAL Whop webhook payloads (WHOP.md 1.1 and 1.2). Tests use them to drive the webhook
// ingest and the sandbox's sender uses them for `type + data` requests, so every event the project
// sees in tests has the shape Whop actually sends: the v1 envelope around a full REST object, or the
// legacy v5 envelope around flat data with unix-second timestamps.
import type { Whop } from "@whop/sdk";
import { randomId } from "./ids.ts";
import {
  type CancelOption,
  type Currency,
  invoiceObject,
  type InvoiceOptions,
  isoNow,
  manageUrlFor,
  membershipObject,
  type MembershipOptions,
  type MembershipStatus,
  paymentObject,
  type PaymentOptions,
  type PaymentOutcome,
  type WhopMembership,
  type WhopPayment,
} from "./whop_objects.ts";

export * from "./whop_objects.ts";

/** The Standard Webhooks ("v1") envelope. Pinned API versions from 2026-08-14 on carry `account_id`
 * instead of `company_id`; consumers must read `company_id ?? account_id`. */
export interface WebhookEnvelope<T = unknown> {
  id: string;
  api_version: "v1";
  /** Only present when the builder was given `apiVersionDate`. */
  api_version_date?: string | null;
  type: string;
  timestamp: string;
  company_id?: string | null;
  account_id?: string | null;
  data: T;
  /** Old values of changed fields, on some `*.updated` events. */
  previous_attributes?: Record<string, unknown>;
}

export interface LegacyEnvelope<T = Record<string, unknown>> {
  action: string;
  api_version: "v5";
  data: T;
}

export interface EnvelopeOptions {
  /** Event id, also used as `webhook-id` by the sender. Default: a fresh `msg_...`. */
  eventId?: string;
  /** ISO 8601. Default: now. */
  timestamp?: string | Date;
  /** Adds `api_version_date`; from "2026-08-14" on, the company moves to `account_id`. */
  apiVersionDate?: string;
  /** Force which key names the company, regardless of `apiVersionDate`. */
  companyKey?: "company_id" | "account_id";
  previousAttributes?: Record<string, unknown>;
}

export const PAYMENT_EVENT_TYPES = [
  "payment.created",
  "payment.failed",
  "payment.succeeded",
  "payment.pending",
  "payment.requires_action",
] as const;

export const MEMBERSHIP_EVENT_TYPES = [
  "membership.activated",
  "membership.deactivated",
  "membership.cancel_at_period_end_changed",
  "membership.updated",
  "membership.trial_ending_soon",
] as const;

export type PaymentEventType = (typeof PAYMENT_EVENT_TYPES)[number];
export type MembershipEventType = (typeof MEMBERSHIP_EVENT_TYPES)[number];

/** Wraps any data object in the v1 envelope. */
export function webhookEnvelope<T>(
  type: string,
  data: T,
  companyId: string | null,
  o: EnvelopeOptions = {},
): WebhookEnvelope<T> {
  const useAccountId = o.companyKey
    ? o.companyKey === "account_id"
    : o.apiVersionDate !== undefined && o.apiVersionDate >= "2026-08-14";
  const timestamp = o.timestamp instanceof Date ? o.timestamp.toISOString() : o.timestamp ?? isoNow();
  return {
    id: o.eventId ?? randomId("msg", 24),
    api_version: "v1",
    ...(o.apiVersionDate !== undefined ? { api_version_date: o.apiVersionDate } : {}),
    type,
    timestamp,
    ...(useAccountId ? { account_id: companyId } : { company_id: companyId }),
    data,
    ...(o.previousAttributes ? { previous_attributes: o.previousAttributes } : {}),
  };
}

const PAYMENT_OUTCOME_BY_TYPE: Record<string, PaymentOutcome> = {
  "payment.created": "pending",
  "payment.failed": "failed",
  "payment.succeeded": "succeeded",
  "payment.pending": "pending",
  "payment.requires_action": "requires_action",
};

/**
 * A v1 payment event whose `data` is a full Payment. The outcome (status, substatus, failure fields,
 * recovery_url, membership status) follows from `type` unless overridden.
 *
 * paymentEvent("payment.failed", { companyId: "biz_1", membershipId: "mem_1", userId: "user_1", amount: 29.99 })
 */
export function paymentEvent(
  type: PaymentEventType | (string & Record<never, never>),
  o: PaymentOptions & EnvelopeOptions = {},
): WebhookEnvelope<WhopPayment> {
  const data = paymentObject({ outcome: PAYMENT_OUTCOME_BY_TYPE[type] ?? "succeeded", ...o });
  return webhookEnvelope(type, data, data.company?.id ?? null, o);
}

/** Field defaults that make a membership look like what each event type reports. */
function membershipDefaults(type: string): Partial<MembershipOptions> {
  switch (type) {
    case "membership.deactivated":
      return { status: "canceled", renewalPeriodEnd: isoNow() };
    case "membership.cancel_at_period_end_changed":
      return { status: "active", cancelAtPeriodEnd: true };
    case "membership.trial_ending_soon":
      return { status: "trialing" };
    default:
      return { status: "active" };
  }
}

/**
 * A v1 membership event whose `data` is a full Membership.
 *
 * membershipEvent("membership.cancel_at_period_end_changed", { membershipId: "mem_1", cancelOption: "too_expensive" })
 */
export function membershipEvent(
  type: MembershipEventType | (string & Record<never, never>),
  o: MembershipOptions & EnvelopeOptions = {},
): WebhookEnvelope<WhopMembership> {
  const data = membershipObject({ ...membershipDefaults(type), ...o });
  return webhookEnvelope(type, data, data.company.id, o);
}

/** A v1 invoice event (`invoice.past_due`, `invoice.paid`, ...) whose `data` is an Invoice. */
export function invoiceEvent(
  type: string,
  o: InvoiceOptions & EnvelopeOptions = {},
): WebhookEnvelope<Whop.Invoice> {
  const status = o.status ??
    (type === "invoice.paid" ? "paid" : type === "invoice.voided" ? "void" : "past_due");
  const data = invoiceObject({ ...o, status });
  return webhookEnvelope(type, data, o.companyId ?? randomId("biz"), o);
}

// ---- legacy v5 -------------------------------------------------------------------------------------

export interface LegacyOptions {
  /** `pay_...` for payment actions, `mem_...` for membership actions. */
  id?: string;
  membershipId?: string;
  paymentId?: string;
  userId?: string;
  companyId?: string;
  productId?: string;
  planId?: string;
  email?: string | null;
  /** Decimal currency units. */
  amount?: number;
  currency?: Currency;
  status?: string;
  valid?: boolean;
  cancelAtPeriodEnd?: boolean;
  cancelOption?: CancelOption | null;
  paymentsFailed?: number;
  failureMessage?: string | null;
  billingReason?: string | null;
  /** Unix seconds. */
  createdAt?: number;
  renewalPeriodEnd?: number | null;
  /** Extra flat fields merged over the defaults. */
  extra?: Record<string, unknown>;
}

/** Maps legacy/underscore spellings onto the kind of object their `data` describes. */
function legacyKind(action: string): "payment" | "membership" | "refund" | "dispute" {
  if (/^refund/.test(action)) return "refund";
  if (/^dispute/.test(action)) return "dispute";
  return /payment/.test(action) ? "payment" : "membership";
}

/**
 * A legacy v5 event: `{action, api_version: "v5", data: {flat...}}` with ids as `*_id` fields and
 * unix-second timestamps. Works for `payment.failed`, `payment.succeeded`, `app_payment.*`,
 * `membership.went_valid`, `membership.went_invalid`, `app_membership.*`, `refund.created`,
 * `dispute.created` and underscore spellings. Each object keeps its company where Whop's does
 * (WHOP.md 1.2, `@whop/api` 0.0.51 `*WebhookData` types): a payment in `company_id`, a membership
 * in `page_id`, a refund or dispute only in its nested `payment.company_id`.
 */
export function legacyEvent(action: string, o: LegacyOptions = {}): LegacyEnvelope {
  const nowS = Math.floor(Date.now() / 1000);
  const membershipId = o.membershipId ?? randomId("mem");
  const companyId = o.companyId ?? randomId("biz");
  const parties = {
    user_id: o.userId ?? randomId("user"),
    product_id: o.productId ?? randomId("prod"),
    plan_id: o.planId ?? randomId("plan"),
  };
  const common = { ...parties, company_id: companyId };
  const kind = legacyKind(action);
  let data: Record<string, unknown>;
  if (kind === "refund" || kind === "dispute") {
    const amount = o.amount ?? 29.99;
    data = {
      id: o.id ?? randomId(kind === "refund" ? "rfnd" : "dspt"),
      amount,
      currency: o.currency ?? "usd",
      status: kind === "refund" ? "succeeded" : "needs_response",
      created_at: o.createdAt ?? nowS,
      payment: {
        id: o.paymentId ?? randomId("pay"),
        membership_id: membershipId,
        ...common,
        final_amount: amount,
        currency: o.currency ?? "usd",
      },
    };
  } else if (kind === "payment") {
    const failed = /fail/.test(action);
    const amount = o.amount ?? 29.99;
    data = {
      id: o.id ?? o.paymentId ?? randomId("pay"),
      membership_id: membershipId,
      ...common,
      status: o.status ?? (failed ? "open" : "paid"),
      subtotal: amount,
      final_amount: amount,
      currency: o.currency ?? "usd",
      refunded_amount: 0,
      payments_failed: o.paymentsFailed ?? (failed ? 1 : 0),
      failure_message: o.failureMessage === undefined
        ? (failed ? "Your card has insufficient funds." : null)
        : o.failureMessage,
      billing_reason: o.billingReason === undefined ? "subscription_cycle" : o.billingReason,
      card_brand: "visa",
      card_last_4: "4242",
      created_at: o.createdAt ?? nowS,
      paid_at: failed ? null : nowS,
      last_payment_attempt: nowS,
      next_payment_attempt: failed ? nowS + 86_400 : null,
      refunded_at: null,
    };
  } else {
    const invalid = /invalid|deactivat/.test(action);
    const status: MembershipStatus | string = o.status ?? (invalid ? "expired" : "active");
    data = {
      id: o.id ?? membershipId,
      ...parties,
      page_id: companyId,
      email: o.email === undefined ? "member@example.com" : o.email,
      status,
      valid: o.valid ?? !invalid,
      cancel_at_period_end: o.cancelAtPeriodEnd ?? false,
      cancel_option: o.cancelOption ?? null,
      quantity: 1,
      license_key: null,
      metadata: {},
      manage_url: manageUrlFor(o.id ?? membershipId),
      created_at: o.createdAt ?? nowS - 30 * 86_400,
      renewal_period_start: nowS - 28 * 86_400,
      renewal_period_end: o.renewalPeriodEnd === undefined
        ? (invalid ? nowS : nowS + 2 * 86_400)
        : o.renewalPeriodEnd,
      expires_at: null,
    };
  }
  return { action, api_version: "v5", data: { ...data, ...(o.extra ?? {}) } };
}
