// End to end over real HTTP on the running stack: the Whop sandbox signs and delivers a webhook to
// the functions gateway, the function stores it, the case opens.
import assert from "node:assert/strict";
import { connectAsOwner, getJson, stack } from "../support/stack.ts";
import { setFlags, uniqueCompany } from "../support/webhooks.ts";

Deno.test("a webhook sent by the sandbox through the gateway opens a case", async () => {
  const sql = connectAsOwner();
  try {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
    const companyId = uniqueCompany("http");
    const delivery = await getJson(`${stack.sandboxUrl}/_sandbox/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "payment.failed",
        data: {
          id: "pay_http1",
          company: { id: companyId },
          membership: { id: "mem_http1", status: "past_due" },
          total: 12.5,
          currency: "eur",
        },
        company_id: companyId,
      }),
    });
    assert.equal(delivery.status, 200, JSON.stringify(delivery.body));
    assert.equal(delivery.body.status, 200, `the function answered: ${JSON.stringify(delivery.body.body)}`);
    assert.equal((delivery.body.body as { status: string }).status, "stored");

    const cases =
      await sql`select status, amount_at_risk_minor, currency from public.recovery_cases where company_id = ${companyId}`;
    assert.deepEqual(
      cases.map((row) => ({ ...row, amount_at_risk_minor: Number(row.amount_at_risk_minor) })),
      [
        { status: "open", amount_at_risk_minor: 1250, currency: "eur" },
      ],
    );
  } finally {
    await sql.end();
  }
});
