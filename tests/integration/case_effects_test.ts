// Every churn-relevant Whop event type, in real v1 and legacy v5 shapes, moves a membership's case
// the way ARCHITECTURE section 5 says: delivered on its own, and after a failure opened a case (a
// failed first checkout opens nothing; a refund or dispute ends the open case as lost).
import assert from "node:assert/strict";
import {
  invoiceEvent,
  legacyEvent,
  membershipEvent,
  paymentEvent,
  webhookEnvelope,
} from "../../whop-sandbox/payloads.ts";
import { setFlags, signedRequest, uniqueCompany, withWebhookApp } from "../support/webhooks.ts";

type Build = (companyId: string, membershipId: string) => { body: unknown; format: "v1" | "legacy" };
const v1 = (body: unknown) => ({ body, format: "v1" as const });
const legacy = (body: unknown) => ({ body, format: "legacy" as const });
const ids = (companyId: string, membershipId: string) => ({ companyId, membershipId, userId: "user_fx" });
const paymentChild = (c: string, m: string) => paymentEvent("payment.succeeded", ids(c, m)).data;

/** [event, case after it alone, case after it following an opening payment.failed] */
const table: [string, Build, string, string][] = [
  [
    "payment.failed",
    (c, m) => v1(paymentEvent("payment.failed", ids(c, m))),
    "open:payment_failed",
    "open:payment_failed",
  ],
  [
    "payment.failed, first checkout (billing_reason subscription_create)",
    (c, m) => v1(paymentEvent("payment.failed", { ...ids(c, m), billingReason: "subscription_create" })),
    "none",
    "open:payment_failed",
  ],
  [
    "payment.requires_action",
    (c, m) => v1(paymentEvent("payment.requires_action", ids(c, m))),
    "open:action_required",
    "open:payment_failed",
  ],
  [
    "payment.succeeded",
    (c, m) => v1(paymentEvent("payment.succeeded", ids(c, m))),
    "none",
    "recovered:payment_failed",
  ],
  [
    "payment.pending",
    (c, m) => v1(paymentEvent("payment.pending", ids(c, m))),
    "none",
    "open:payment_failed",
  ],
  [
    "membership.activated",
    (c, m) => v1(membershipEvent("membership.activated", ids(c, m))),
    "none",
    "recovered:payment_failed",
  ],
  [
    "membership.deactivated",
    (c, m) => v1(membershipEvent("membership.deactivated", ids(c, m))),
    "open:membership_deactivated",
    "lost:payment_failed",
  ],
  [
    "membership.cancel_at_period_end_changed (true)",
    (c, m) =>
      v1(
        membershipEvent("membership.cancel_at_period_end_changed", { ...ids(c, m), cancelAtPeriodEnd: true }),
      ),
    "open:cancel_scheduled",
    "open:payment_failed",
  ],
  [
    "membership.cancel_at_period_end_changed (false)",
    (c, m) =>
      v1(
        membershipEvent("membership.cancel_at_period_end_changed", {
          ...ids(c, m),
          cancelAtPeriodEnd: false,
        }),
      ),
    "none",
    "recovered:payment_failed",
  ],
  [
    "membership.updated",
    (c, m) => v1(membershipEvent("membership.updated", ids(c, m))),
    "none",
    "open:payment_failed",
  ],
  [
    "membership.trial_ending_soon",
    (c, m) => v1(membershipEvent("membership.trial_ending_soon", ids(c, m))),
    "none",
    "open:payment_failed",
  ],
  [
    "invoice.past_due",
    (c) => v1(invoiceEvent("invoice.past_due", { companyId: c })),
    "none",
    "open:payment_failed",
  ],
  ["invoice.paid", (c) => v1(invoiceEvent("invoice.paid", { companyId: c })), "none", "open:payment_failed"],
  [
    "refund.created",
    (c, m) =>
      v1(
        webhookEnvelope("refund.created", {
          id: "rfnd_fx",
          amount: 10,
          currency: "usd",
          payment: paymentChild(c, m),
        }, c),
      ),
    "none",
    // The refund or dispute ends the open case (20261203000200_refunds_disputes_first_checkouts.sql).
    "lost:payment_failed",
  ],
  [
    "dispute.created",
    (c, m) =>
      v1(
        webhookEnvelope("dispute.created", {
          id: "dspt_fx",
          amount: 10,
          currency: "usd",
          payment: paymentChild(c, m),
        }, c),
      ),
    "none",
    // The refund or dispute ends the open case (20261203000200_refunds_disputes_first_checkouts.sql).
    "lost:payment_failed",
  ],
  [
    "legacy app_payment.failed",
    (c, m) => legacy(legacyEvent("app_payment.failed", ids(c, m))),
    "open:payment_failed",
    "open:payment_failed",
  ],
  [
    "legacy payment_failed",
    (c, m) => legacy(legacyEvent("payment_failed", ids(c, m))),
    "open:payment_failed",
    "open:payment_failed",
  ],
  [
    "legacy app_payment.succeeded",
    (c, m) => legacy(legacyEvent("app_payment.succeeded", ids(c, m))),
    "none",
    "recovered:payment_failed",
  ],
  [
    "legacy membership.went_valid",
    (c, m) => legacy(legacyEvent("membership.went_valid", ids(c, m))),
    "none",
    "recovered:payment_failed",
  ],
  [
    "legacy refund.created (company only in data.payment.company_id)",
    (c, m) => legacy(legacyEvent("refund.created", ids(c, m))),
    "none",
    "lost:payment_failed",
  ],
  [
    "legacy dispute.created (company only in data.payment.company_id)",
    (c, m) => legacy(legacyEvent("dispute.created", ids(c, m))),
    "none",
    "lost:payment_failed",
  ],
  [
    "legacy app_membership.went_invalid",
    (c, m) => legacy(legacyEvent("app_membership.went_invalid", ids(c, m))),
    "open:membership_deactivated",
    "lost:payment_failed",
  ],
];

Deno.test("each event type moves the case as specified, alone and after a failure", async () => {
  await withWebhookApp(async ({ send, sql }) => {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
    const caseState = async (companyId: string) => {
      const rows = await sql`select status, reason from public.recovery_cases where company_id = ${companyId}
                             order by opened_at desc limit 1`;
      return rows.length ? `${rows[0].status}:${rows[0].reason}` : "none";
    };
    for (const [name, build, alone, afterFailure] of table) {
      const soloCompany = uniqueCompany("fx");
      const solo = build(soloCompany, "mem_fx");
      const response = await send(await signedRequest(solo.body, { format: solo.format }));
      assert.equal(response.status, 200, `${name}: ${JSON.stringify(response.body)}`);
      assert.equal(await caseState(soloCompany), alone, `${name} alone`);

      const company = uniqueCompany("fx");
      const opening = paymentEvent("payment.failed", {
        ...ids(company, "mem_fx"),
        timestamp: new Date(Date.now() - 3600_000).toISOString(),
      });
      assert.equal((await send(await signedRequest(opening))).status, 200);
      const next = build(company, "mem_fx");
      assert.equal((await send(await signedRequest(next.body, { format: next.format }))).status, 200, name);
      assert.equal(await caseState(company), afterFailure, `${name} after a failure`);
    }
  });
});
