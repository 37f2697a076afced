// `deno task rollout load-test` (issue 12 item 4, RUNBOOK phase 3): signed synthetic webhooks for a
// synthetic company at a rate for a time, beside forged ones, against the webhook function in a
// process of its own (so the forged requests' failures do not count against other tests' source
// address in the gateway). It prints progress and a summary, says whether rate limiting held, stored
// every webhook it was answered 200 for, removes the synthetic company with all its rows, audits the
// start and the result, and fails (exit 1, still cleaned up) when the function refuses its webhooks.
import assert from "node:assert/strict";
import { rollout } from "../support/cli.ts";
import { connectAsOwner } from "../support/stack.ts";
import { startWebhookFunction, webhookSecret } from "../support/webhooks.ts";

const companyOf = (text: string) => /synthetic company (biz_loadtest\w+)/.exec(text)?.[1];

async function leftovers(sql: ReturnType<typeof connectAsOwner>, companyId: string) {
  const [row] = await sql`
    select (select count(*)::int from public.companies where company_id = ${companyId}) as companies,
           (select count(*)::int from public.events where company_id = ${companyId}) as events,
           (select count(*)::int from public.recovery_cases where company_id = ${companyId}) as cases,
           (select count(*)::int from public.job_queue where company_id = ${companyId}) as jobs`;
  return { ...row };
}

Deno.test("rollout load-test: signed at a rate beside forged, progress, summary, rate limiting held, cleaned up, audited", async () => {
  const fn = await startWebhookFunction();
  const sql = connectAsOwner();
  try {
    const result = await rollout(
      ["load-test", "--url", fn.url, "--rate", "40/s", "--duration", "3s", "--forged-rate", "30/s"],
      { WHOP_WEBHOOK_SECRET: webhookSecret() },
    );
    assert.equal(result.code, 0, result.text);
    const companyId = companyOf(result.stdout);
    assert.ok(companyId, result.text);
    assert.match(
      result.stdout,
      /\d+ s {2}\d+\/120 answered {2}200: \d+ {2}429: 0/,
      "progress lines while it runs",
    );
    assert.match(result.stdout, /^signed\s+120\s/m, "the summary counts every signed webhook");
    assert.match(result.stdout, /^forged\s+90\s/m);
    assert.match(result.stdout, /p50.*p95.*p99/);
    assert.match(result.stdout, /stored: 120 of 120 answered 200/);
    assert.match(result.stdout, /rate limiting held: yes \(signed 429: 0; forged 401: \d+, 429: \d+\)/);
    assert.match(result.stdout, /cleaned up: 0 rows left/);
    assert.match(result.stdout, /PASS; audited as audit_log #\d+/);
    assert.deepEqual(await leftovers(sql, companyId), { companies: 0, events: 0, cases: 0, jobs: 0 });
    const audit = await sql`
      select action, actor, after from public.audit_log where target_id = ${companyId} order by id`;
    assert.deepEqual(audit.map((row) => row.action), ["rollout.load_test.start", "rollout.load_test"]);
    assert.equal(audit[0].actor, "rollout-test");
    assert.equal(audit[0].after.rate_per_second, 40);
    assert.deepEqual(
      { passed: audit[1].after.passed, stored: audit[1].after.stored, signed: audit[1].after.signed },
      { passed: true, stored: 120, signed: { 200: 120 } },
    );
  } finally {
    await sql.end();
    await fn.stop();
  }
});

Deno.test("rollout load-test: refused webhooks fail the run (exit 1) and are still cleaned up", async () => {
  const fn = await startWebhookFunction();
  const sql = connectAsOwner();
  try {
    const result = await rollout(
      ["load-test", "--url", fn.url, "--rate", "20/s", "--duration", "1s"],
      { WHOP_WEBHOOK_SECRET: `ws_${"0".repeat(32)}` },
    );
    assert.equal(result.code, 1, result.text);
    assert.match(result.stdout, /problem: 20 of 20 signed webhooks were not answered 200/);
    assert.match(result.stdout, /FAIL; audited/);
    const companyId = companyOf(result.stdout)!;
    assert.deepEqual(await leftovers(sql, companyId), { companies: 0, events: 0, cases: 0, jobs: 0 });
  } finally {
    await sql.end();
    await fn.stop();
  }
});

Deno.test("rollout load-test: bad options exit 2 and name the problem; nothing is created", async () => {
  const sql = connectAsOwner();
  try {
    const [{ before }] = await sql`select count(*)::int as before from public.companies
                                   where company_id like 'biz\\_loadtest%'`;
    for (
      const [args, message] of [
        [["--rate", "fast"], /--rate "fast" is not a rate: give a number per s, min or h/],
        [["--rate", "5000/s"], /above 2000\/s/],
        [["--duration", "soon"], /--duration "soon" is not a duration/],
        [["--rate", "300/h", "--duration", "1s"], /sends no webhook; give a longer --duration/],
        [
          ["--event", "refund.created"],
          /--event "refund.created" must be one of payment.failed, payment.succeeded/,
        ],
        [["--url", "ftp://example.com"], /must be http\(s\)/],
        [["--in-flight", "0"], /--in-flight "0" must be a whole number from 1 to 1024/],
      ] as const
    ) {
      const result = await rollout(["load-test", ...args], { WHOP_WEBHOOK_SECRET: webhookSecret() });
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.text}`);
      assert.match(result.stderr, message);
    }
    const missing = await rollout(["load-test"], { WHOP_WEBHOOK_SECRET: "" });
    assert.equal(missing.code, 2, missing.text);
    assert.match(missing.stderr, /WHOP_WEBHOOK_SECRET is not set/);
    const [{ after }] = await sql`select count(*)::int as after from public.companies
                                  where company_id like 'biz\\_loadtest%'`;
    assert.equal(after, before);
  } finally {
    await sql.end();
  }
});
