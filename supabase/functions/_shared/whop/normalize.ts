// Turns a verified Whop webhook body (v1 Standard Webhooks envelope, legacy v5 or v2) into the columns
// the database processes. Every problem with the input becomes an EnvelopeError whose message the
// webhook function returns with its 400; anything else escaping from here is a bug.
import { EnvelopeError } from "./envelope_error.ts";
import {
  CompanyOnlyData,
  InvoiceData,
  LEGACY_ACTIVITY_FIELDS,
  LegacyEnvelope,
  LegacyMembershipData,
  LegacyOtherData,
  LegacyPaymentData,
  LegacyRefundOrDisputeData,
  MembershipData,
  parseOrThrow,
  type PartyData,
  PaymentData,
  RefundOrDisputeData,
  V1Envelope,
} from "./envelope.ts";
import { eventObject, normalizeEventName } from "./event_names.ts";
import { eventTimeToIso, scheduledTimeToIso } from "./event_time.ts";
import { checkCurrency, decimalToMinorUnits } from "./money.ts";
import { toHex } from "./webhook_signature.ts";

export { EnvelopeError } from "./envelope_error.ts";
export { CHURN_EVENT_TYPES, normalizeEventName } from "./event_names.ts";
export { toMinorUnits } from "./money.ts";

export interface MemberContact {
  email: string | null;
  name: string | null;
  username: string | null;
}

export interface NormalizedEvent extends EventFields {
  /** Dedupe key and primary key of `events`. */
  id: string;
  format: "v1" | "legacy";
  apiVersion: string;
  /** As sent: v1 `type`, legacy `action`. */
  rawType: string;
  /** Dotted v1 name (`normalizeEventName`). */
  type: string;
  companyId: string;
  companyTitle: string | null;
  /** ISO 8601 UTC. */
  occurredAt: string;
  /** Which field gave `occurredAt`: `timestamp`, `signature`, or for legacy bodies `data.<field>`. */
  occurredAtField: string;
}

export interface NormalizeContext {
  format: "v1" | "legacy";
  /** The `webhook-id` header (v1); preferred over the body's `id` as the dedupe key. */
  webhookId: string | null;
  /** The exact raw body; legacy events without an id are keyed by its hash. */
  rawBody: string;
  /** Unix seconds the delivery was signed at (the verified signature timestamp). */
  signedAt?: number;
}

const COMPANY_ID = /^biz_[A-Za-z0-9_-]{1,64}$/;
const MAX_ID_LENGTH = 200;
const MAX_URL_LENGTH = 2000;

export async function normalizeWebhook(body: unknown, ctx: NormalizeContext): Promise<NormalizedEvent> {
  if (ctx.format === "v1") return normalizeV1(body, ctx.webhookId);
  if (ctx.format === "legacy") return await normalizeLegacy(body, ctx.rawBody, ctx.signedAt);
  throw new TypeError(`normalizeWebhook: unknown format ${String(ctx.format)}`);
}

function normalizeV1(body: unknown, webhookId: string | null): NormalizedEvent {
  const envelope = parseOrThrow(V1Envelope, body);
  const type = checkedType(envelope.type, "type");
  const id = v1EventId(webhookId, envelope.id ?? null);
  const occurredAt = eventTimeToIso(envelope.timestamp, "timestamp");
  const details = v1Details(eventObject(type), envelope.data);
  return {
    id,
    format: "v1",
    apiVersion: envelope.api_version,
    rawType: envelope.type,
    type,
    companyId: resolveCompany(envelope, details.dataCompany),
    companyTitle: details.companyTitle,
    occurredAt,
    occurredAtField: "timestamp",
    ...eventFields(details),
  };
}

async function normalizeLegacy(body: unknown, rawBody: string, signedAt?: number): Promise<NormalizedEvent> {
  const envelope = parseOrThrow(LegacyEnvelope, body);
  const type = checkedType(envelope.action, "action");
  const id = await legacyEventId(envelope.id, rawBody);
  const [data, dataField] = envelope.data != null ? [envelope.data, "data"] : [envelope.body, "body"];
  if (data == null) throw new EnvelopeError("data", "is required (an object; v2 bodies may call it body)");
  const { details, activity } = legacyDetails(eventObject(type), data, [dataField]);
  let occurred = envelope.timestamp != null
    ? { iso: eventTimeToIso(envelope.timestamp, "timestamp"), field: "timestamp" }
    : latestActivity(activity);
  // A legacy membership body whose only time is the membership's creation says nothing about when
  // it changed; the signing time is the better estimate of the event's time.
  if (occurred.field === "data.created_at" && eventObject(type) === "membership" && signedAt !== undefined) {
    occurred = { iso: new Date(signedAt * 1000).toISOString(), field: "signature" };
  }
  return {
    id,
    format: "legacy",
    // v2 bodies carry no api_version at all (WHOP.md 1.2).
    apiVersion: envelope.api_version ?? "v2",
    rawType: envelope.action,
    type,
    companyId: resolveCompany(envelope, details.dataCompany),
    companyTitle: details.companyTitle,
    occurredAt: occurred.iso,
    occurredAtField: occurred.field,
    ...eventFields(details),
  };
}

// ---- ids, names, company -----------------------------------------------------------------------

function checkedType(raw: string, field: string): string {
  const type = normalizeEventName(raw);
  if (!type) throw new EnvelopeError(field, "must not be blank");
  return type;
}

/** Standard Webhooks retries reuse the `webhook-id`, so it is the natural dedupe key. */
function v1EventId(webhookId: string | null, bodyId: string | null): string {
  if (webhookId !== null && webhookId.trim() !== "") {
    if (webhookId.length > MAX_ID_LENGTH) {
      throw new EnvelopeError("webhook-id", `is longer than ${MAX_ID_LENGTH} characters`);
    }
    return webhookId;
  }
  if (bodyId !== null) return bodyId;
  throw new EnvelopeError("id", "is required when there is no webhook-id header");
}

/** Legacy retries resend the same bytes, so without an event id the body's hash dedupes them. */
async function legacyEventId(bodyId: unknown, rawBody: string): Promise<string> {
  if (typeof bodyId === "string" && bodyId.trim() !== "") {
    if (bodyId.length > MAX_ID_LENGTH) {
      throw new EnvelopeError("id", `is longer than ${MAX_ID_LENGTH} characters`);
    }
    return bodyId;
  }
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(rawBody));
  return `legacy_${toHex(new Uint8Array(digest)).slice(0, 32)}`;
}

interface CompanyCandidate {
  id: string;
  field: string;
}

/** The envelope's own field first (`company_id`, newer docs' `account_id`, app webhooks' top-level
 * `company`), then wherever the object keeps it (see `partyDetails` and WHOP.md 1.2). */
function resolveCompany(
  envelope: {
    company_id?: string | null;
    account_id?: string | null;
    company?: { id?: string | null } | null;
  },
  fromData: CompanyCandidate | null,
): string {
  const topLevel = envelope.company?.id;
  const candidate = envelope.company_id != null
    ? { id: envelope.company_id, field: "company_id" }
    : envelope.account_id != null
    ? { id: envelope.account_id, field: "account_id" }
    : topLevel != null
    ? { id: topLevel, field: "company" }
    : fromData;
  if (!candidate) {
    throw new EnvelopeError(
      "company_id",
      "is required (or account_id, company, data.company.id, data.page_id or data.payment.company_id)",
    );
  }
  if (!COMPANY_ID.test(candidate.id)) throw new EnvelopeError(candidate.field, "is not a Whop company id");
  return candidate.id;
}

// ---- per-object details ------------------------------------------------------------------------

interface Details {
  companyTitle: string | null;
  dataCompany: CompanyCandidate | null;
  membershipId: string | null;
  userId: string | null;
  paymentId: string | null;
  productId: string | null;
  /** The product's title as the creator named it (for the nudges' {product}). */
  productTitle: string | null;
  /** Integer minor units; null exactly when `currency` is null. */
  amountMinor: number | null;
  /** Lowercase ISO 4217 code of `amountMinor`. */
  currency: string | null;
  cancelAtPeriodEnd: boolean | null;
  recoveryUrl: string | null;
  manageUrl: string | null;
  /** PII: store encrypted, never log. */
  member: MemberContact;
  // What a churn product needs to know about why (WHOP.md 1.1, 4). Each is read where the object
  // carries it and is null otherwise; an odd value becomes null, never an error.
  /** A payment's `billing_reason`: `subscription_create` (a first checkout), `subscription_cycle`
   * (a renewal), `subscription_update`, `manual`, `one_time`, ... (a short lowercase token). */
  billingReason: string | null;
  /** Whop's reason for a failed payment, on one line, at most 500 characters. */
  failureMessage: string | null;
  /** How many times Whop has failed to charge this payment (0 to 1000). */
  paymentsFailed: number | null;
  /** When Whop retries the charge, ISO 8601 UTC. */
  nextPaymentAttempt: string | null;
  /** The membership's `status` (`past_due`, `canceled`, ...): a membership event's own, or the one a
   * payment nests. */
  membershipStatus: string | null;
  /** The reason the member picked when cancelling (`too_expensive`, `switching`, ...). */
  cancelOption: string | null;
  /** The member's own words on why they cancel. PII: store encrypted, never log. */
  cancellationReason: string | null;
  /** End of the paid period, ISO 8601 UTC. */
  renewalPeriodEnd: string | null;
}

type EventFields = Omit<Details, "companyTitle" | "dataCompany">;

function eventFields(details: Details): EventFields {
  const { companyTitle: _title, dataCompany: _company, ...fields } = details;
  return fields;
}

const DATA: readonly PropertyKey[] = ["data"];

function v1Details(object: string, data: unknown): Details {
  switch (object) {
    case "payment": {
      const parsed = parseOrThrow(PaymentData, data, DATA);
      return paymentDetails(parsed, paymentMoney(parsed));
    }
    case "membership":
      return membershipDetails(parseOrThrow(MembershipData, data, DATA));
    case "invoice":
      return invoiceDetails(parseOrThrow(InvoiceData, data, DATA));
    case "refund":
    case "dispute":
      return refundOrDisputeDetails(parseOrThrow(RefundOrDisputeData, data, DATA));
    default:
      return companyOnlyDetails(data);
  }
}

type Activity = Partial<Record<(typeof LEGACY_ACTIVITY_FIELDS)[number], string | number | null>>;

function legacyDetails(
  object: string,
  data: unknown,
  at: readonly PropertyKey[],
): { details: Details; activity: Activity } {
  switch (object) {
    case "payment": {
      const parsed = parseOrThrow(LegacyPaymentData, data, at);
      // v5 payments name the charged amount `final_amount`; `total` is read only if it is absent.
      const money = parsed.final_amount != null
        ? moneyOf(parsed.final_amount, parsed.currency, "data.final_amount", "data.currency")
        : paymentMoney(parsed);
      return { details: paymentDetails(parsed, money), activity: parsed };
    }
    case "membership": {
      const parsed = parseOrThrow(LegacyMembershipData, data, at);
      return { details: membershipDetails(parsed), activity: parsed };
    }
    case "refund":
    case "dispute": {
      const parsed = parseOrThrow(LegacyRefundOrDisputeData, data, at);
      return { details: refundOrDisputeDetails(parsed), activity: parsed };
    }
    default:
      return { details: companyOnlyDetails(data), activity: parseOrThrow(LegacyOtherData, data, at) };
  }
}

function partyDetails(d: PartyData): Details {
  const { company, user } = d;
  return {
    companyTitle: company?.title ?? null,
    dataCompany: companyCandidate([
      [company?.id, "data.company.id"],
      [d.company_id, "data.company_id"],
      [d.page_id, "data.page_id"],
    ]),
    membershipId: d.membership?.id ?? d.membership_id ?? null,
    userId: user?.id ?? d.user_id ?? null,
    paymentId: null,
    productId: d.product?.id ?? d.product_id ?? null,
    productTitle: productTitle(d.product?.title),
    amountMinor: null,
    currency: null,
    cancelAtPeriodEnd: null,
    recoveryUrl: null,
    manageUrl: null,
    member: {
      email: user?.email ?? d.email ?? null,
      name: user?.name ?? d.name ?? null,
      username: user?.username ?? d.username ?? null,
    },
    billingReason: null,
    failureMessage: null,
    paymentsFailed: null,
    nextPaymentAttempt: null,
    membershipStatus: token(d.membership?.status),
    cancelOption: null,
    cancellationReason: null,
    renewalPeriodEnd: null,
  };
}

function companyCandidate(options: [string | null | undefined, string][]): CompanyCandidate | null {
  for (const [id, field] of options) if (id != null) return { id, field };
  return null;
}

function paymentDetails(d: PaymentData, money: Money): Details {
  return {
    ...partyDetails(d),
    paymentId: d.id ?? null,
    ...money,
    recoveryUrl: httpUrlOrNull(d.recovery_url),
    billingReason: token(d.billing_reason),
    failureMessage: oneLine(d.failure_message, FAILURE_MESSAGE_MAX_CHARS),
    paymentsFailed: count(d.payments_failed),
    nextPaymentAttempt: scheduledTimeToIso(d.next_payment_attempt),
  };
}

function membershipDetails(d: MembershipData): Details {
  const party = partyDetails(d);
  return {
    ...party,
    membershipId: d.id ?? party.membershipId,
    cancelAtPeriodEnd: d.cancel_at_period_end ?? null,
    manageUrl: httpUrlOrNull(d.manage_url),
    membershipStatus: token(d.status) ?? party.membershipStatus,
    cancelOption: token(d.cancel_option),
    cancellationReason: oneLine(d.cancellation_reason, CANCELLATION_REASON_MAX_CHARS),
    renewalPeriodEnd: scheduledTimeToIso(d.renewal_period_end),
  };
}

function invoiceDetails(d: InvoiceData): Details {
  const party = partyDetails(d);
  return {
    ...party,
    member: { ...party.member, email: party.member.email ?? d.email_address ?? null },
    ...invoiceMoney(d),
  };
}

function refundOrDisputeDetails(d: RefundOrDisputeData): Details {
  const party = partyDetails(d);
  const payment = d.payment;
  const payer = payment?.user;
  return {
    ...party,
    dataCompany: party.dataCompany ?? companyCandidate([
      [payment?.company?.id, "data.payment.company.id"],
      [payment?.company_id, "data.payment.company_id"],
    ]),
    membershipId: payment?.membership?.id ?? payment?.membership_id ?? party.membershipId,
    userId: payer?.id ?? payment?.user_id ?? party.userId,
    paymentId: d.payment?.id ?? null,
    productId: party.productId ?? d.payment?.product?.id ?? null,
    ...moneyOf(d.amount, d.currency, "data.amount", "data.currency"),
    member: {
      email: payer?.email ?? party.member.email ?? d.customer_email_address ?? null,
      name: payer?.name ?? party.member.name ?? d.customer_name ?? null,
      username: payer?.username ?? party.member.username,
    },
  };
}

const PRODUCT_TITLE_MAX_CHARS = 200;
const FAILURE_MESSAGE_MAX_CHARS = 500;
const CANCELLATION_REASON_MAX_CHARS = 1000;
/** Whop's codes (billing reasons, statuses, cancel options) are short lowercase snake_case words. */
const TOKEN = /^[a-z][a-z0-9_]{0,39}$/;
const MAX_COUNT = 1000;

function productTitle(value: unknown): string | null {
  return oneLine(value, PRODUCT_TITLE_MAX_CHARS);
}

/** Text as one line of at most `max` characters (code points), or null. Control characters (NUL
 * included, which Postgres text cannot hold) become spaces and lone surrogates U+FFFD, so whatever
 * Whop sends can be stored. */
function oneLine(value: unknown, max: number): string | null {
  if (typeof value !== "string") return null;
  // Longer input is cut before the work, so a huge field costs no more than a short one.
  const cleaned = value.slice(0, max * 4).toWellFormed().replace(/[\s\p{Cc}]+/gu, " ").trim();
  return Array.from(cleaned).slice(0, max).join("").trim() || null;
}

/** A code such as `subscription_cycle`, lowercased, or null when it does not look like one. */
function token(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const lowered = value.trim().toLowerCase();
  return TOKEN.test(lowered) ? lowered : null;
}

/** A small non-negative count (a number or digits), or null. */
function count(value: unknown): number | null {
  const n = typeof value === "number"
    ? value
    : typeof value === "string" && /^\d{1,6}$/.test(value.trim())
    ? Number(value.trim())
    : NaN;
  return Number.isSafeInteger(n) && n >= 0 && n <= MAX_COUNT ? n : null;
}

/** Event types we do not model are stored, never rejected: only the company is read, leniently. */
function companyOnlyDetails(data: unknown): Details {
  const parsed = CompanyOnlyData.safeParse(data);
  return partyDetails(
    parsed.success
      ? { company: parsed.data.company, company_id: parsed.data.company_id, page_id: parsed.data.page_id }
      : {},
  );
}

// ---- money, urls, time -------------------------------------------------------------------------

interface Money {
  amountMinor: number | null;
  currency: string | null;
}

const NO_MONEY: Money = { amountMinor: null, currency: null };

/** An amount with its currency. Currencies without an ISO minor unit (crypto, Whop balance) give no
 * amount rather than an error: those are real Whop payments and must not be rejected. */
function moneyOf(
  amount: number | string | null | undefined,
  currency: string | null | undefined,
  amountField: string,
  currencyField: string,
): Money {
  const code = currency == null ? null : checkCurrency(currency, currencyField);
  if (amount == null) return NO_MONEY;
  if (!code) throw new EnvelopeError(currencyField, `is required with ${amountField}`);
  if (code.kind !== "iso") return NO_MONEY;
  return { amountMinor: decimalToMinorUnits(amount, code.exponent, amountField), currency: code.code };
}

/** `total` in the payment's currency; `usd_total` (always USD) when `total` cannot be used. */
function paymentMoney(d: PaymentData): Money {
  const primary = d.total != null && d.currency != null
    ? moneyOf(d.total, d.currency, "data.total", "data.currency")
    : NO_MONEY;
  if (primary.amountMinor !== null) return primary;
  if (d.usd_total != null) return moneyOf(d.usd_total, "usd", "data.usd_total", "data.currency");
  return moneyOf(d.total, d.currency, "data.total", "data.currency");
}

/** Invoices carry no total: the line items' totals, summed in minor units. */
function invoiceMoney(d: InvoiceData): Money {
  const currency = d.current_plan?.currency;
  const code = currency == null ? null : checkCurrency(currency, "data.current_plan.currency");
  const items = (d.line_items ?? []).flatMap((item, index) =>
    item.total == null ? [] : [{ total: item.total, field: `data.line_items[${index}].total` }]
  );
  if (items.length === 0) return NO_MONEY;
  if (!code) throw new EnvelopeError("data.current_plan.currency", "is required with data.line_items");
  if (code.kind !== "iso") return NO_MONEY;
  let sum = 0;
  for (const item of items) {
    sum += decimalToMinorUnits(item.total, code.exponent, item.field);
    if (!Number.isSafeInteger(sum)) throw new EnvelopeError("data.line_items", "add up to too large a total");
  }
  return { amountMinor: sum, currency: code.code };
}

/** Links are later used as redirect targets: only absolute http(s) URLs survive. */
function httpUrlOrNull(value: string | null | undefined): string | null {
  if (value == null || !URL.canParse(value)) return null;
  const url = new URL(value);
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  return url.href.length <= MAX_URL_LENGTH ? url.href : null;
}

/** Legacy bodies have no event time; the object's most recent activity is the closest stand-in. */
function latestActivity(activity: Activity): { iso: string; field: string } {
  let latest: { iso: string; field: string } | null = null;
  for (const name of LEGACY_ACTIVITY_FIELDS) {
    const value = activity[name];
    if (value == null) continue;
    const field = `data.${name}`;
    const iso = eventTimeToIso(value, field);
    if (!latest || iso > latest.iso) latest = { iso, field };
  }
  if (!latest) throw new EnvelopeError("data.created_at", "is required when the body has no timestamp");
  return latest;
}
