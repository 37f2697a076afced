// WEBHOOK_PROCESSING_ENABLED off: events are verified and stored, nothing is processed; turned on,
// `deno task reprocess --since` processes the backlog in event-time order, and running it again
// changes nothing. ROLLBACK_MODE forces processing off like the flag does.
import assert from "node:assert/strict";
import { membershipEvent, paymentEvent } from "../../whop-sandbox/payloads.ts";
import { setFlags, signedRequest, uniqueCompany, withWebhookApp } from "../support/webhooks.ts";
import { runTask } from "../support/cli.ts";

const reprocess = (...args: string[]) => runTask("reprocess", args);

Deno.test("processing off stores without processing; reprocess catches up in event-time order, idempotently", async () => {
  await withWebhookApp(async ({ send, sql }) => {
    const companyId = uniqueCompany("reproc");
    const hour = 3600_000;
    const t0 = Date.now() - 3 * 24 * hour;
    const failed = paymentEvent("payment.failed", {
      companyId,
      membershipId: "mem_r",
      timestamp: new Date(t0).toISOString(),
    });
    const lost = membershipEvent("membership.deactivated", {
      companyId,
      membershipId: "mem_r",
      timestamp: new Date(t0 + hour).toISOString(),
    });

    for (
      const flags of [{ WEBHOOK_PROCESSING_ENABLED: false, ROLLBACK_MODE: false }, {
        WEBHOOK_PROCESSING_ENABLED: true,
        ROLLBACK_MODE: true,
      }]
    ) {
      await setFlags(sql, flags);
      const body = flags.ROLLBACK_MODE ? failed : lost; // arrival order: the deactivation first
      const response = await send(await signedRequest(body));
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, { status: "stored", id: body.id, processed: false });
    }
    const [{ n }] =
      await sql`select count(*)::int as n from public.recovery_cases where company_id = ${companyId}`;
    assert.equal(n, 0, "nothing was processed while off");

    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
    const first = await reprocess("--since", new Date(t0 - hour).toISOString());
    assert.equal(first.code, 0, first.text);
    assert.match(first.text, /summary: \d+ events of \d+ memberships processed/);
    const cases = await sql`select status, reason from public.recovery_cases where company_id = ${companyId}`;
    assert.deepEqual(cases.map((row) => ({ ...row })), [{ status: "lost", reason: "payment_failed" }]);
    const [{ waiting }] =
      await sql`select count(*)::int as waiting from public.events where company_id = ${companyId} and processed_at is null`;
    assert.equal(waiting, 0);

    const again = await reprocess("--since", "all");
    assert.equal(again.code, 0, again.text);
    const after = await sql`select status, reason from public.recovery_cases where company_id = ${companyId}`;
    assert.deepEqual(after.map((row) => ({ ...row })), [{ status: "lost", reason: "payment_failed" }]);
  });
});

Deno.test("reprocess explains bad arguments", async () => {
  for (
    const [args, message] of [[[], /--since is required/], [["--since", "yesterday"], /not a time/], [[
      "--bogus",
    ], /unknown option/]] as const
  ) {
    const result = await reprocess(...args);
    assert.equal(result.code, 2);
    assert.match(result.text, message);
  }
});
