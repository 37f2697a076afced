// The documented webhook shapes (tests/fixtures/whop_webhook_shapes.ts) through the real function
// and database: each is stored under its company and membership with the churn fields it carries
// (the member's cancellation reason only as ciphertext), and the shapes drive the case they mean (a
// v5 cancellation opens one, a v5 went_invalid closes it, a failed first checkout opens none, a
// refund or dispute in any shape ends an open case).
import assert from "node:assert/strict";
import { decryptField, loadKeyRing } from "../../supabase/functions/_shared/crypto/pii.ts";
import { piiContext } from "../../supabase/functions/_shared/crypto/pii_context.ts";
import { CHURN_FIELDS, WEBHOOK_SHAPES, type WebhookShape } from "../fixtures/whop_webhook_shapes.ts";
import { stackVar } from "../support/stack.ts";
import { setFlags, signedRequest, withWebhookApp } from "../support/webhooks.ts";

/** The events column of each churn field (the cancellation reason is stored encrypted). */
const COLUMN: Record<string, string> = {
  billingReason: "billing_reason",
  failureMessage: "failure_message",
  paymentsFailed: "payments_failed",
  nextPaymentAttempt: "next_payment_attempt",
  membershipStatus: "membership_status",
  cancelOption: "cancel_option",
  cancellationReason: "cancellation_reason_ciphertext",
  renewalPeriodEnd: "renewal_period_end",
};

/** The shape with its placeholder ids made unique to this run (every id holds "Shape"). */
function unique(shape: WebhookShape, tag: string): { body: Record<string, unknown>; companyId: string } {
  const swap = (text: string) => text.replaceAll("Shape", tag);
  return { body: JSON.parse(swap(JSON.stringify(shape.body))), companyId: swap(shape.expect.companyId) };
}

function tag(): string {
  return `T${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
}

Deno.test("every documented webhook shape is stored under its company, type and membership, with its churn fields", async () => {
  const ring = await loadKeyRing(stackVar("ENCRYPTION_KEYS"));
  await withWebhookApp(async ({ send, sql }) => {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
    for (const shape of WEBHOOK_SHAPES) {
      const run = tag();
      const { body, companyId } = unique(shape, run);
      const response = await send(await signedRequest(body, { format: shape.format, id: `msg_${run}` }));
      assert.equal(response.status, 200, `${shape.name}: ${JSON.stringify(response.body)}`);
      const [row] = await sql`
        select company_id, type, membership_id, api_version from public.events where id = ${
        String(response.body.id)
      }`;
      assert.deepEqual({ ...row }, {
        company_id: companyId,
        type: shape.expect.type,
        membership_id: shape.expect.membershipId?.replaceAll("Shape", run) ?? null,
        api_version: shape.expect.apiVersion,
      }, shape.name);

      const [stored] = await sql`select * from public.events where id = ${String(response.body.id)}`;
      for (const field of CHURN_FIELDS) {
        const expected = shape.expect.churn?.[field] ?? null;
        const value = stored[COLUMN[field]];
        const label = `${shape.name}: ${field}`;
        if (field === "cancellationReason") {
          assert.equal(value === null, expected === null, label);
          if (expected === null) continue;
          assert.match(value, /^v1\./, `${label} is a ciphertext`);
          assert.ok(
            !JSON.stringify(stored).includes(String(expected)),
            `${label}: no plaintext anywhere in the row`,
          );
          const context = piiContext.event(stored.id, "cancellation_reason");
          assert.equal(await decryptField(ring, value, context), expected, `${label} decrypts`);
        } else if (value instanceof Date) {
          assert.equal(value.toISOString(), expected, label);
        } else {
          assert.equal(value, expected, label);
        }
      }
    }
  });
});

function shapeNamed(name: string): WebhookShape {
  const shape = WEBHOOK_SHAPES.find((candidate) => candidate.name === name);
  if (!shape) throw new Error(`no shape named ${name}`);
  return shape;
}

Deno.test("v5 shapes drive the cases they mean: a failure opens one, went_invalid ends it as lost", async () => {
  await withWebhookApp(async ({ send, sql }) => {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
    const run = tag();
    const failed = unique(shapeNamed("v5 payment.failed"), run);
    assert.equal((await send(await signedRequest(failed.body, { format: "legacy" }))).status, 200);
    const opened =
      await sql`select status, reason from public.recovery_cases where company_id = ${failed.companyId}`;
    assert.deepEqual(opened.map((row) => ({ ...row })), [{ status: "open", reason: "payment_failed" }]);

    const invalid = unique(shapeNamed("v5 membership.went_invalid (company in page_id)"), run);
    assert.equal((await send(await signedRequest(invalid.body, { format: "legacy" }))).status, 200);
    const closed = await sql`select status from public.recovery_cases where company_id = ${failed.companyId}`;
    assert.deepEqual(closed.map((row) => row.status), ["lost"]);
  });
});

Deno.test("a v5 scheduled cancellation (company in page_id) opens a case", async () => {
  await withWebhookApp(async ({ send, sql }) => {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
    const cancel = unique(shapeNamed("v5 membership.cancel_at_period_end_changed"), tag());
    assert.equal((await send(await signedRequest(cancel.body, { format: "legacy" }))).status, 200);
    const cases =
      await sql`select status, reason from public.recovery_cases where company_id = ${cancel.companyId}`;
    assert.deepEqual(cases.map((row) => ({ ...row })), [{ status: "open", reason: "cancel_scheduled" }]);
  });
});
