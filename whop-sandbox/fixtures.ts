// Seeding Whop-side state. A fixture is a partial Whop object in Whop's own snake_case shape (anything
// given wins), plus a few shortcuts (`user_id`, `company_id`, ...) so tests can write
// `{id: "mem_1", user_id: "user_1", company_id: "biz_1", status: "past_due"}` and get a full Membership.
import { z } from "zod";
import { SandboxState } from "./store.ts";
import {
  experienceObject,
  membershipObject,
  paymentObject,
  type PaymentOutcome,
  type WhopExperience,
  type WhopMembership,
  type WhopPayment,
} from "./whop_objects.ts";

const looseObject = z.record(z.string(), z.unknown());

export const fixturesSchema = z.object({
  memberships: z.array(looseObject).optional(),
  payments: z.array(looseObject).optional(),
  access: z.array(z.object({
    user_id: z.string().min(1),
    resource_id: z.string().min(1),
    access_level: z.enum(["admin", "customer", "no_access"]),
  })).optional(),
  experiences: z.array(looseObject).optional(),
});

export type FixturesInput = z.infer<typeof fixturesSchema>;
type Loose = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function nested(v: unknown, key: string): string | undefined {
  return v && typeof v === "object" ? str((v as Loose)[key]) : undefined;
}

/** Shallow-merges `over` onto `base`, merging one level deeper for nested objects (user, company...). */
function overlay<T extends object>(base: T, over: Loose, skip: string[]): T {
  const out: Loose = { ...(base as Loose) };
  for (const [k, v] of Object.entries(over)) {
    if (skip.includes(k)) continue;
    const current = out[k];
    out[k] = v && typeof v === "object" && !Array.isArray(v) && current && typeof current === "object"
      ? { ...(current as Loose), ...(v as Loose) }
      : v;
  }
  return out as T;
}

const PARTY_SHORTCUTS = [
  "user_id",
  "company_id",
  "product_id",
  "plan_id",
  "member_id",
  "email",
  "username",
  "name",
];

function partyOptions(f: Loose) {
  return {
    userId: str(f.user_id) ?? nested(f.user, "id"),
    email: str(f.email) ?? nested(f.user, "email"),
    name: str(f.name) ?? nested(f.user, "name"),
    username: str(f.username) ?? nested(f.user, "username"),
    companyId: str(f.company_id) ?? nested(f.company, "id"),
    productId: str(f.product_id) ?? nested(f.product, "id"),
    planId: str(f.plan_id) ?? nested(f.plan, "id"),
    memberId: str(f.member_id) ?? nested(f.member, "id"),
  };
}

export function membershipFromFixture(f: Loose, existing?: WhopMembership): WhopMembership {
  const base = existing ?? membershipObject({ membershipId: str(f.id), ...partyOptions(f) });
  return overlay(base, f, PARTY_SHORTCUTS);
}

export function paymentFromFixture(f: Loose, existing?: WhopPayment): WhopPayment {
  const outcome = str(f.outcome) as PaymentOutcome | undefined;
  const membershipId = f.membership_id === null ? null : str(f.membership_id) ?? nested(f.membership, "id");
  const base = existing ?? paymentObject({
    paymentId: str(f.id),
    outcome,
    membershipId,
    amount: typeof f.amount === "number" ? f.amount : typeof f.total === "number" ? f.total : undefined,
    currency: str(f.currency) as WhopPayment["currency"] | undefined,
    ...partyOptions(f),
  });
  return overlay(base, f, [...PARTY_SHORTCUTS, "outcome", "membership_id", "amount", "retry_outcome"]);
}

export function experienceFromFixture(f: Loose): WhopExperience {
  const base = experienceObject({
    experienceId: str(f.id),
    companyId: str(f.company_id) ?? nested(f.company, "id"),
    name: str(f.name),
    appId: str(f.app_id),
  });
  return overlay(base, f, ["company_id", "app_id"]);
}

/** Adds or replaces (by id) everything in `input`; returns the stored objects. */
export function applyFixtures(state: SandboxState, input: FixturesInput) {
  const memberships = (input.memberships ?? []).map((f) => {
    const m = membershipFromFixture(f);
    state.memberships.set(m.id, m);
    return m;
  });
  const payments = (input.payments ?? []).map((f) => {
    const p = paymentFromFixture(f);
    state.payments.set(p.id, p);
    const outcome = f.retry_outcome;
    if (outcome === "succeeded" || outcome === "failed") state.retryOutcomes.set(p.id, outcome);
    return p;
  });
  const access = (input.access ?? []).map((a) => {
    state.access.set(SandboxState.accessKey(a.user_id, a.resource_id), a.access_level);
    return a;
  });
  const experiences = (input.experiences ?? []).map((f) => {
    const e = experienceFromFixture(f);
    state.experiences.set(e.id, e);
    return e;
  });
  return { memberships, payments, access, experiences };
}

/** Keeps REST state in line with webhooks the sandbox sends: after "payment.failed" for mem_1, a
 * `GET /memberships/mem_1` works, as it would on Whop. Only full v1 objects are registered. */
export function registerFromWebhook(state: SandboxState, payload: unknown): void {
  if (!payload || typeof payload !== "object") return;
  const p = payload as Loose;
  if (p.api_version !== "v1" || typeof p.type !== "string") return;
  const data = p.data as Loose | undefined;
  if (!data || typeof data.id !== "string") return;
  if (p.type.startsWith("membership.") && data.id.startsWith("mem_")) {
    state.memberships.set(data.id, membershipFromFixture(data, state.memberships.get(data.id)));
  } else if (p.type.startsWith("payment.") && data.id.startsWith("pay_")) {
    state.payments.set(data.id, paymentFromFixture(data, state.payments.get(data.id)));
    const mem = data.membership as Loose | null | undefined;
    if (mem && typeof mem.id === "string") {
      const existing = state.memberships.get(mem.id);
      const fromPayment: Loose = {
        id: mem.id,
        status: mem.status,
        user: data.user,
        company: data.company
          ? { id: nested(data.company, "id"), title: nested(data.company, "title") }
          : undefined,
        product: data.product
          ? { id: nested(data.product, "id"), title: nested(data.product, "title") }
          : undefined,
        plan: data.plan ? { id: nested(data.plan, "id") } : undefined,
        member: data.member ? { id: nested(data.member, "id") } : undefined,
      };
      for (const k of Object.keys(fromPayment)) if (fromPayment[k] === undefined) delete fromPayment[k];
      state.memberships.set(mem.id, membershipFromFixture(fromPayment, existing));
    }
  }
}
