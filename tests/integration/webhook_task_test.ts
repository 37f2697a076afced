// `deno task webhook`: a newcomer's realistic test webhook. Sent through the Whop sandbox to the
// running stack's whop-webhook function, it opens the case it describes with the member's details
// (encrypted, searchable) and the failure message or cancellation reason; bad input is refused with
// a message naming the problem and sends nothing.
import assert from "node:assert/strict";
import { decryptField, loadKeyRing } from "../../supabase/functions/_shared/crypto/pii.ts";
import { piiContext } from "../../supabase/functions/_shared/crypto/pii_context.ts";
import { runTask } from "../support/cli.ts";
import { connectAsOwner, stack, stackVar } from "../support/stack.ts";
import { enableEverything, uniqueCompany } from "../support/webhooks.ts";

const env = () => ({ WHOP_SANDBOX_URL: stack.sandboxUrl, DASHBOARD_URL: stack.dashboardUrl });

Deno.test("deno task webhook: a failed payment and a scheduled cancellation open their cases", async () => {
  const sql = connectAsOwner();
  const companyId = uniqueCompany("task");
  try {
    await enableEverything(sql);
    const failed = await runTask("webhook", [
      "payment.failed",
      "--company",
      companyId,
      "--membership",
      "mem_task_1",
      "--user",
      "user_task_1",
      "--name",
      "Sarah Connor",
      "--email",
      "sarah.task@example.com",
      "--amount",
      "49",
      "--failure",
      "Your card was declined.",
    ], env());
    assert.equal(failed.code, 0, failed.text);
    assert.match(
      failed.stdout,
      /sent payment\.failed msg_\S+ \(membership mem_task_1, user user_task_1\) to .*: 200/,
    );
    assert.match(failed.stdout, /\/dev\/login/);

    const cancelled = await runTask("webhook", [
      "membership.cancel_at_period_end_changed",
      "--company",
      companyId,
      "--reason",
      "too_expensive",
      "--words",
      "Too pricey for me",
    ], env());
    assert.equal(cancelled.code, 0, cancelled.text);

    const cases = await sql`
      select rc.reason, rc.membership_id, rc.amount_at_risk_minor::int as amount, e.failure_message, e.cancel_option
      from public.recovery_cases rc
      join public.events e on e.id = rc.opening_event_id
      where rc.company_id = ${companyId} order by rc.reason`;
    assert.deepEqual(cases.map((c) => [c.reason, c.failure_message ?? c.cancel_option]), [
      ["cancel_scheduled", "too_expensive"],
      ["payment_failed", "Your card was declined."],
    ]);
    assert.equal(cases[1].amount, 4900);
    const [member] = await sql`select name_ciphertext, search_tokens from public.members
                               where company_id = ${companyId} and user_id = 'user_task_1'`;
    const ring = await loadKeyRing(stackVar("ENCRYPTION_KEYS"));
    assert.equal(
      decryptField(ring, member.name_ciphertext, piiContext.member(companyId, "user_task_1", "name")),
      "Sarah Connor",
    );
    assert.ok(member.search_tokens.length > 0, "searchable by name");
  } finally {
    await sql`delete from public.companies where company_id = ${companyId}`;
    await sql.end();
  }
});

Deno.test("deno task webhook: bad input names the problem, exits 2 and sends nothing", async () => {
  const before = (await (await fetch(`${stack.sandboxUrl}/_sandbox/webhooks`)).json()).deliveries.length;
  const cases: Array<[string[], RegExp]> = [
    [[], /give an event type first/],
    [["payment.exploded"], /unknown event type "payment\.exploded"\. Choose one of: payment\.created/],
    [["payment.failed", "--amount", "ten"], /--amount must be a positive number/],
    [["payment.failed", "--currency", "USD"], /--currency must be a lowercase three-letter code/],
    [
      ["membership.cancel_at_period_end_changed", "--reason", "bored"],
      /--reason must be one of too_expensive/,
    ],
    [["payment.failed", "--colour", "red"], /unknown option "--colour"/],
    [["payment.failed", "--name"], /--name needs a value/],
  ];
  for (const [args, message] of cases) {
    const result = await runTask("webhook", args, env());
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.text}`);
    assert.match(result.stderr, message, args.join(" "));
  }
  const after = (await (await fetch(`${stack.sandboxUrl}/_sandbox/webhooks`)).json()).deliveries.length;
  assert.equal(after, before, "nothing was sent");
  const help = await runTask("webhook", ["--help"], env());
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: deno task webhook <type>/);
});
