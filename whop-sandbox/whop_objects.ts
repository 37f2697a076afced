// Builders for Whop's REST objects (Membership, Payment, Experience, ...). They are typed against the
// official SDK's own types (`Whop.Membership`, `Whop.Payment`), so when Whop's shapes change and the
// SDK pin is bumped, `deno check` points at every place the sandbox no longer matches. The webhook
// payload builders (payloads.ts) and the sandbox's REST store both use these, so webhooks and REST
// answers always describe the same object the same way.
import type { Whop } from "@whop/sdk";
import { randomId } from "./ids.ts";

export type MembershipStatus = Whop.MembershipStatus;
export type CancelOption = NonNullable<Whop.Membership["cancel_option"]>;
export type Currency = Whop.Currency;
export type ReceiptStatus = Whop.ReceiptStatus;
export type FriendlyReceiptStatus = Whop.FriendlyReceiptStatus;
export type BillingReason = Whop.BillingReasons;
export type AccessLevel = "admin" | "customer" | "no_access";

export type WhopMembership = Whop.Membership;
/** Whop's Payment plus the two webhook fields the churn flow relies on that the SDK's type (0.0.42)
 * does not list yet: `recovery_url` (may be absent) and `decline_code`. */
export type WhopPayment = Whop.Payment & { recovery_url?: string; decline_code?: string | null };
export type WhopExperience = Whop.Experience;
export type WhopUser = NonNullable<Whop.Membership["user"]>;

const DAY_MS = 86_400_000;

export function isoNow(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString();
}

/** Who and what an object is about. Everything is optional; missing ids are generated. */
export interface PartyOptions {
  companyId?: string;
  companyTitle?: string;
  companyRoute?: string;
  userId?: string;
  email?: string | null;
  name?: string | null;
  username?: string;
  memberId?: string;
  productId?: string;
  productTitle?: string;
  productRoute?: string;
  planId?: string;
}

interface Party {
  companyId: string;
  companyTitle: string;
  companyRoute: string;
  user: WhopUser;
  memberId: string;
  productId: string;
  productTitle: string;
  productRoute: string;
  planId: string;
}

function resolveParty(o: PartyOptions): Party {
  const userId = o.userId ?? randomId("user");
  const username = o.username ?? `member-${userId.slice(-6).toLowerCase()}`;
  return {
    companyId: o.companyId ?? randomId("biz"),
    companyTitle: o.companyTitle ?? "Sandbox Creator Co",
    companyRoute: o.companyRoute ?? "sandbox-creator-co",
    user: {
      id: userId,
      email: o.email === undefined ? `${username}@example.com` : o.email,
      name: o.name === undefined ? "Sandbox Member" : o.name,
      username,
    },
    memberId: o.memberId ?? randomId("mber"),
    productId: o.productId ?? randomId("prod"),
    productTitle: o.productTitle ?? "Pro Membership",
    productRoute: o.productRoute ?? "pro-membership",
    planId: o.planId ?? randomId("plan"),
  };
}

/** Whop's manage link for a membership (format from Whop's API reference example). */
export function manageUrlFor(membershipId: string): string {
  return `https://whop.com/billing/manage/${membershipId}`;
}

/** A plausible link the member can use to fix a failed payment. The real format is not documented. */
export function recoveryUrlFor(paymentId: string): string {
  return `https://whop.com/billing/recover/${paymentId}`;
}

export interface MembershipOptions extends PartyOptions {
  membershipId?: string;
  status?: MembershipStatus;
  cancelAtPeriodEnd?: boolean;
  cancelOption?: CancelOption | null;
  cancellationReason?: string | null;
  canceledAt?: string | null;
  createdAt?: string;
  updatedAt?: string;
  joinedAt?: string | null;
  renewalPeriodStart?: string | null;
  renewalPeriodEnd?: string | null;
  manageUrl?: string | null;
  currency?: Currency | null;
  paymentCollectionPaused?: boolean;
  metadata?: Record<string, unknown> | null;
  licenseKey?: string | null;
}

export function membershipObject(o: MembershipOptions = {}): WhopMembership {
  const p = resolveParty(o);
  const id = o.membershipId ?? randomId("mem");
  const created = o.createdAt ?? isoNow(-30 * DAY_MS);
  const cancelAtPeriodEnd = o.cancelAtPeriodEnd ?? false;
  return {
    id,
    cancel_at_period_end: cancelAtPeriodEnd,
    cancel_option: o.cancelOption ?? null,
    canceled_at: o.canceledAt !== undefined ? o.canceledAt : cancelAtPeriodEnd ? isoNow() : null,
    cancellation_reason: o.cancellationReason ?? null,
    checkout_configuration_id: null,
    company: { id: p.companyId, title: p.companyTitle },
    created_at: created,
    currency: o.currency === undefined ? "usd" : o.currency,
    custom_field_responses: [],
    joined_at: o.joinedAt === undefined ? created : o.joinedAt,
    license_key: o.licenseKey ?? null,
    manage_url: o.manageUrl === undefined ? manageUrlFor(id) : o.manageUrl,
    member: { id: p.memberId },
    metadata: o.metadata === undefined ? {} : o.metadata,
    payment_collection_paused: o.paymentCollectionPaused ?? false,
    plan: { id: p.planId, metadata: {} },
    product: { id: p.productId, metadata: {}, title: p.productTitle },
    promo_code: null,
    renewal_period_end: o.renewalPeriodEnd === undefined ? isoNow(2 * DAY_MS) : o.renewalPeriodEnd,
    renewal_period_start: o.renewalPeriodStart === undefined ? isoNow(-28 * DAY_MS) : o.renewalPeriodStart,
    status: o.status ?? "active",
    updated_at: o.updatedAt ?? isoNow(),
    user: p.user,
  };
}

/** What happened to a charge; picks consistent defaults for status, substatus and failure fields. */
export type PaymentOutcome = "succeeded" | "failed" | "pending" | "requires_action" | "refunded";

export interface PaymentOptions extends PartyOptions {
  paymentId?: string;
  outcome?: PaymentOutcome;
  /** `null` for a one-time payment with no membership. */
  membershipId?: string | null;
  membershipStatus?: MembershipStatus;
  /** Total in decimal currency units (e.g. 29.99), NOT cents. */
  amount?: number;
  subtotal?: number | null;
  /** Defaults to `amount` (the sandbox does no currency conversion). */
  usdTotal?: number | null;
  currency?: Currency;
  status?: ReceiptStatus | null;
  substatus?: FriendlyReceiptStatus;
  failureMessage?: string | null;
  declineCode?: string | null;
  /** Absent or `null` leaves `recovery_url` out, as Whop's documented Payment does. */
  recoveryUrl?: string | null;
  paymentsFailed?: number | null;
  nextPaymentAttempt?: string | null;
  lastPaymentAttempt?: string | null;
  retryable?: boolean;
  billingReason?: BillingReason | null;
  createdAt?: string;
  updatedAt?: string;
  paidAt?: string | null;
  cardBrand?: Whop.Payment["card_brand"];
  cardLast4?: string | null;
  metadata?: Record<string, unknown> | null;
}

export function paymentObject(o: PaymentOptions = {}): WhopPayment {
  const p = resolveParty(o);
  const id = o.paymentId ?? randomId("pay");
  const outcome = o.outcome ?? "succeeded";
  const failed = outcome === "failed";
  const amount = o.amount ?? 29.99;
  const currency = o.currency ?? "usd";
  const now = isoNow();
  const membershipId = o.membershipId === undefined ? randomId("mem") : o.membershipId;
  const defaults = OUTCOME_DEFAULTS[outcome];
  const payment: WhopPayment = {
    id,
    amount_after_fees: round2(amount * 0.97),
    application_fee: null,
    auto_refunded: false,
    billing_address: null,
    billing_reason: o.billingReason === undefined
      ? (membershipId ? "subscription_cycle" : "one_time")
      : o.billingReason,
    card_brand: o.cardBrand === undefined ? "visa" : o.cardBrand,
    card_last4: o.cardLast4 === undefined ? "4242" : o.cardLast4,
    checkout_configuration_id: null,
    company: { id: p.companyId, route: p.companyRoute, title: p.companyTitle },
    created_at: o.createdAt ?? now,
    currency,
    dispute_alerted_at: null,
    disputes: [],
    failure_message: o.failureMessage === undefined
      ? (failed ? "Your card has insufficient funds." : null)
      : o.failureMessage,
    financing_installments_count: null,
    financing_transactions: [],
    last_payment_attempt: o.lastPaymentAttempt === undefined ? now : o.lastPaymentAttempt,
    member: { id: p.memberId, phone: null },
    membership: membershipId
      ? { id: membershipId, phone_number: null, status: o.membershipStatus ?? defaults.membershipStatus }
      : null,
    metadata: o.metadata === undefined ? {} : o.metadata,
    next_payment_attempt: o.nextPaymentAttempt === undefined
      ? (failed ? isoNow(DAY_MS) : null)
      : o.nextPaymentAttempt,
    paid_at: o.paidAt === undefined ? (outcome === "succeeded" ? now : null) : o.paidAt,
    payment_method: null,
    payment_method_type: "card",
    payments_failed: o.paymentsFailed === undefined ? (failed ? 1 : 0) : o.paymentsFailed,
    plan: { id: p.planId, internal_notes: null, metadata: {} },
    product: { id: p.productId, metadata: {}, route: p.productRoute, title: p.productTitle },
    promo_code: null,
    refundable: outcome === "succeeded",
    refunded_amount: outcome === "refunded" ? amount : null,
    refunded_at: outcome === "refunded" ? now : null,
    refunds: [],
    resolutions: [],
    retryable: o.retryable ?? (failed || outcome === "requires_action"),
    risk_score: null,
    risk_signals: null,
    settlement_amount: amount,
    settlement_currency: currency,
    settlement_exchange_rate: null,
    shipping_address: null,
    status: o.status === undefined ? defaults.status : o.status,
    substatus: o.substatus ?? defaults.substatus,
    subtotal: o.subtotal === undefined ? amount : o.subtotal,
    tax_amount: 0,
    tax_behavior: null,
    tax_refunded_amount: null,
    three_ds_verified: false,
    total: amount,
    updated_at: o.updatedAt ?? now,
    usd_total: o.usdTotal === undefined ? amount : o.usdTotal,
    user: p.user,
    voidable: false,
    decline_code: o.declineCode === undefined ? (failed ? "insufficient_funds" : null) : o.declineCode,
  };
  // Neither the SDK's Payment type nor the docs example has recovery_url (WHOP.md 1.1): it is left
  // out unless a test asks for it.
  const recovery = o.recoveryUrl ?? null;
  if (recovery !== null) payment.recovery_url = recovery;
  return payment;
}

const OUTCOME_DEFAULTS: Record<
  PaymentOutcome,
  { status: ReceiptStatus; substatus: FriendlyReceiptStatus; membershipStatus: MembershipStatus }
> = {
  succeeded: { status: "paid", substatus: "succeeded", membershipStatus: "active" },
  failed: { status: "open", substatus: "failed", membershipStatus: "past_due" },
  pending: { status: "pending", substatus: "pending", membershipStatus: "active" },
  requires_action: { status: "open", substatus: "incomplete", membershipStatus: "past_due" },
  refunded: { status: "paid", substatus: "refunded", membershipStatus: "active" },
};

export interface ExperienceOptions {
  experienceId?: string;
  companyId?: string;
  companyTitle?: string;
  name?: string;
  appId?: string;
}

export function experienceObject(o: ExperienceOptions = {}): WhopExperience {
  return {
    id: o.experienceId ?? randomId("exp"),
    app: { id: o.appId ?? randomId("app"), icon: null, name: "Churn Saver" },
    company: {
      id: o.companyId ?? randomId("biz"),
      route: "sandbox-creator-co",
      title: o.companyTitle ?? "Sandbox Creator Co",
    },
    created_at: isoNow(-90 * DAY_MS),
    image: null,
    is_public: true,
    name: o.name ?? "Churn Saver",
    order: null,
    products: [],
  };
}

export interface InvoiceOptions extends PartyOptions {
  invoiceId?: string;
  status?: Whop.InvoiceStatus;
  amount?: number;
  currency?: Currency;
  dueDate?: string | null;
}

export function invoiceObject(o: InvoiceOptions = {}): Whop.Invoice {
  const p = resolveParty(o);
  const amount = o.amount ?? 29.99;
  const currency = o.currency ?? "usd";
  return {
    id: o.invoiceId ?? randomId("inv"),
    created_at: isoNow(-DAY_MS),
    current_plan: { id: p.planId, currency, formatted_price: `$${amount.toFixed(2)}` },
    due_date: o.dueDate === undefined ? isoNow(-DAY_MS) : o.dueDate,
    email_address: p.user.email,
    fetch_invoice_token: randomId("tok", 24),
    line_items: [{ label: p.productTitle, position: 0, quantity: 1, total: amount, unit_price: amount }],
    number: `INV-${Math.floor(Math.random() * 1_000_000).toString().padStart(6, "0")}`,
    status: o.status ?? "past_due",
    user: { id: p.user.id, name: p.user.name, username: p.user.username },
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
