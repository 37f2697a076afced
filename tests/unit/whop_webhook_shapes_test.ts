// Every documented webhook shape (tests/fixtures/whop_webhook_shapes.ts, each with its source) is
// understood: the type, the company wherever that object keeps it, the membership, the user, and the
// churn fields it carries (every other churn field is null).
import assert from "node:assert/strict";
import { normalizeWebhook } from "../../supabase/functions/_shared/whop/normalize.ts";
import { CHURN_FIELDS, WEBHOOK_SHAPES } from "../fixtures/whop_webhook_shapes.ts";

Deno.test("the corpus covers v1, v5 and v2 with at least 20 shapes", () => {
  assert.ok(WEBHOOK_SHAPES.length >= 20);
  for (const version of ["v1", "v5", "v2"]) {
    assert.ok(WEBHOOK_SHAPES.some((shape) => shape.expect.apiVersion === version), version);
  }
  for (const shape of WEBHOOK_SHAPES) assert.ok(shape.source.trim() !== "", `${shape.name} cites a source`);
});

for (const shape of WEBHOOK_SHAPES) {
  Deno.test(`webhook shape: ${shape.name}`, async () => {
    const rawBody = JSON.stringify(shape.body);
    const event = await normalizeWebhook(JSON.parse(rawBody), {
      format: shape.format,
      webhookId: shape.format === "v1" ? `msg_${shape.name.length}` : null,
      rawBody,
      signedAt: Math.floor(Date.now() / 1000),
    });
    const { expect } = shape;
    assert.equal(event.type, expect.type);
    assert.equal(event.apiVersion, expect.apiVersion);
    assert.equal(event.companyId, expect.companyId);
    assert.equal(event.membershipId, expect.membershipId);
    assert.equal(event.userId, expect.userId);
    if (expect.paymentId !== undefined) assert.equal(event.paymentId, expect.paymentId);
    if (expect.occurredAt !== undefined) assert.equal(event.occurredAt, expect.occurredAt);
    for (const field of CHURN_FIELDS) assert.equal(event[field], expect.churn?.[field] ?? null, field);
  });
}
