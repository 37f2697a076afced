// zod schemas for the two webhook envelopes and for the `data` fields normalisation reads. Objects
// are loose (Whop adds fields); only fields that are read are checked, each bounded in length, and
// everything inside `data` may be absent or null.
import { z } from "zod";
import { envelopeErrorFromZod } from "./envelope_error.ts";

const id = z.string().min(1).max(200);
const text = z.string().max(320);
const url = z.string().max(2000);
/** Decimal currency units as a number or a decimal string; format and size are checked in money.ts. */
const amount = z.union([z.number(), z.string()], { error: "must be a number or a decimal string" });
const currency = z.string().min(1).max(16);
/** ISO 8601 text or unix seconds; checked in event_time.ts. */
const time = z.union([z.number(), z.string().max(64)], { error: "must be unix seconds or an ISO 8601 time" });
const apiVersion = z.string().min(1).max(32);
const eventName = z.string().min(1).max(100);

const ref = z.looseObject({ id: id.nullish() });
/** v2 bodies and v5 memberships may name a related object by its id alone (WHOP.md 1.2): read as
 * `{id}`, so an error inside a real object still names its own field. */
function orBareId<T extends z.ZodType>(object: T) {
  return z.preprocess((value) => typeof value === "string" ? { id: value } : value, object);
}
const refOrId = orBareId(ref);
/** Fields that only inform the creator (a failure message, a membership status, a cancellation
 * reason): any value is accepted here and normalize.ts keeps it only if it looks right, so an odd one
 * never gets a real delivery refused. */
const informational = z.unknown().optional();
/** A payment nests its membership as `{id, status}` (v1); v2 bodies name it by id alone. */
const membershipRef = orBareId(z.looseObject({ id: id.nullish(), status: informational }));
const user = z.looseObject({
  id: id.nullish(),
  email: text.nullish(),
  name: text.nullish(),
  username: text.nullish(),
});
const company = z.looseObject({ id: id.nullish(), title: text.nullish() });
const companyOrId = orBareId(company);
/** A product's title is the creator's name for it (not member data) and only decorates the nudges: any
 * value is accepted here (an odd one must not get a delivery refused) and normalize.ts keeps a text. */
const product = z.looseObject({ id: id.nullish(), title: z.unknown().optional() });

export const V1Envelope = z.looseObject({
  id: id.nullish(),
  api_version: apiVersion,
  type: eventName,
  timestamp: z.string().max(64),
  company_id: id.nullish(),
  account_id: id.nullish(),
  data: z.looseObject({}),
});

/** v5 (`api_version: "v5"`) and v2 (no `api_version`; one documented example puts the object in
 * `body` instead of `data`). App webhooks may name the company at the top level as `company`. */
export const LegacyEnvelope = z.looseObject({
  // `id` is used only when it is a string (see normalize.ts), so any other type is not an error.
  id: z.unknown().optional(),
  api_version: apiVersion.nullish(),
  action: eventName,
  timestamp: time.nullish(),
  company_id: id.nullish(),
  account_id: id.nullish(),
  company: companyOrId.nullish(),
  data: z.looseObject({}).nullish(),
  body: z.looseObject({}).nullish(),
});

/** Who an event is about: nested objects (v1) or flat `*_id` fields and contact fields (legacy). */
const party = {
  user: orBareId(user).nullish(),
  user_id: id.nullish(),
  email: text.nullish(),
  name: text.nullish(),
  username: text.nullish(),
  company: companyOrId.nullish(),
  company_id: id.nullish(),
  /** v5 membership data names its company only here. */
  page_id: id.nullish(),
  membership: membershipRef.nullish(),
  membership_id: id.nullish(),
  product: product.nullish(),
  product_id: id.nullish(),
};

/** Unix-second times of legacy objects; the latest one stands in for the missing event time. */
export const LEGACY_ACTIVITY_FIELDS = [
  "updated_at",
  "created_at",
  "paid_at",
  "last_payment_attempt",
  "refunded_at",
  "canceled_at",
] as const;
const legacyActivity = Object.fromEntries(
  LEGACY_ACTIVITY_FIELDS.map((field) => [field, time.nullish()]),
) as Record<
  (typeof LEGACY_ACTIVITY_FIELDS)[number],
  z.ZodOptional<z.ZodNullable<typeof time>>
>;

export const PaymentData = z.looseObject({
  ...party,
  id: id.nullish(),
  total: amount.nullish(),
  usd_total: amount.nullish(),
  currency: currency.nullish(),
  recovery_url: url.nullish(),
  // Why it failed and what Whop does next (WHOP.md 1.1, 4): v1 and v5 alike.
  billing_reason: informational,
  failure_message: informational,
  payments_failed: informational,
  next_payment_attempt: informational,
});

export const MembershipData = z.looseObject({
  ...party,
  id: id.nullish(),
  cancel_at_period_end: z.boolean().nullish(),
  manage_url: url.nullish(),
  status: informational,
  cancel_option: informational,
  /** The member's own words: PII, stored encrypted. */
  cancellation_reason: informational,
  renewal_period_end: informational,
});

export const InvoiceData = z.looseObject({
  ...party,
  id: id.nullish(),
  email_address: text.nullish(),
  line_items: z.array(z.looseObject({ total: amount.nullish() })).max(1000).nullish(),
  current_plan: z.looseObject({ currency: currency.nullish() }).nullish(),
});

/** Refunds and disputes: the money moved plus the payment it belongs to. */
export const RefundOrDisputeData = z.looseObject({
  ...party,
  id: id.nullish(),
  amount: amount.nullish(),
  currency: currency.nullish(),
  customer_email_address: text.nullish(),
  customer_name: text.nullish(),
  // v1 nests objects; a v5 refund or dispute nests a flat v5 payment, the only place of its company.
  payment: z.looseObject({
    id: id.nullish(),
    membership: refOrId.nullish(),
    membership_id: id.nullish(),
    user: user.nullish(),
    user_id: id.nullish(),
    product: ref.nullish(),
    company: companyOrId.nullish(),
    company_id: id.nullish(),
  }).nullish(),
});

export const LegacyPaymentData = PaymentData.extend({ final_amount: amount.nullish(), ...legacyActivity });
export const LegacyMembershipData = MembershipData.extend(legacyActivity);
export const LegacyRefundOrDisputeData = RefundOrDisputeData.extend(legacyActivity);
export const LegacyOtherData = z.looseObject(legacyActivity);

/** Only the company, read leniently: for event types we do not know, nothing else is interpreted. */
export const CompanyOnlyData = z.looseObject({
  company: companyOrId.nullish(),
  company_id: id.nullish(),
  page_id: id.nullish(),
});

export type PaymentData = z.infer<typeof PaymentData>;
export type MembershipData = z.infer<typeof MembershipData>;
export type InvoiceData = z.infer<typeof InvoiceData>;
export type RefundOrDisputeData = z.infer<typeof RefundOrDisputeData>;
export type PartyData = z.infer<z.ZodObject<typeof party>>;

/** Parses or throws EnvelopeError naming the first bad field; `prefix` is where `value` sits in the body. */
export function parseOrThrow<T extends z.ZodType>(
  schema: T,
  value: unknown,
  prefix: readonly PropertyKey[] = [],
): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw envelopeErrorFromZod(result.error, value, prefix);
  return result.data;
}
