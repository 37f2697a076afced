// The rollout CLI's command line: help for every command, and clear errors with a non-zero exit
// for an unknown command, a bad percentage, a malformed company id, an unknown phase and an
// unreachable database. `status` shows an unreachable dashboard instead of failing.
import assert from "node:assert/strict";
import { rollout } from "../support/cli.ts";
import { connectAsOwner, unreachableDatabaseUrl } from "../support/stack.ts";

Deno.test("rollout: usage errors exit 2 and say what to do; nothing is changed", async () => {
  const sql = connectAsOwner();
  try {
    const [{ before }] = await sql`select coalesce(max(id), 0) as before from public.audit_log`;
    for (
      const [args, message] of [
        [["deploy-everything"], /unknown command "deploy-everything"/],
        [["ramp", "notifications", "150"], /"150" is not a percentage: give a whole number from 0 to 100/],
        [["ramp", "scheduler", "ten"], /"ten" is not a percentage/],
        [["ramp", "notifications", "10", "--companies", "biz_ok1,acme"], /not a Whop company id: "acme"/],
        [["ramp", "everything", "10"], /cannot ramp "everything": choose scheduler or notifications/],
        [["verify", "sideways"], /unknown phase "sideways"/],
        [["verify"], /which phase\?/],
        [["verify", "dark", "--min-observation", "soon"], /--min-observation "soon" is not a duration/],
        [["full", "--force"], /unknown option "--force"/],
        [["integrity", "--days", "0"], /--days "0" must be a whole number from 1 to 366/],
        [["reprocess"], /--since is required/],
      ] as const
    ) {
      const result = await rollout([...args]);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.text}`);
      assert.match(result.stderr, message);
    }
    const [{ after }] = await sql`select coalesce(max(id), 0) as after from public.audit_log`;
    assert.equal(after, before, "no audit entry, no change");
  } finally {
    await sql.end();
  }
});

Deno.test("rollout: help for every command", async () => {
  const overview = await rollout(["help"]);
  assert.equal(overview.code, 0);
  for (
    const command of [
      "status",
      "dark-launch",
      "ramp",
      "full",
      "rollback",
      "resume",
      "verify",
      "reprocess",
      "integrity",
    ]
  ) {
    assert.match(overview.stdout, new RegExp(`^  ${command} `, "m"));
  }
  const ramp = await rollout(["ramp", "--help"]);
  assert.equal(ramp.code, 0);
  assert.match(
    ramp.stdout,
    /usage: deno task rollout ramp scheduler\|notifications <percent 0-100> \[--companies/,
  );
  const verify = await rollout(["help", "verify"]);
  assert.match(verify.stdout, /--since/);
  assert.equal((await rollout([])).code, 2, "no command: the overview, and a failing exit");
});

Deno.test("rollout: an unreachable database is an error that says what to do", async () => {
  const result = await rollout(["status"], { DATABASE_URL: unreachableDatabaseUrl() });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /cannot reach the database at 127\.0\.0\.1:\d+\/postgres \((database unreachable|database error ECONNREFUSED)\)/,
  );
  assert.match(result.stderr, /Check DATABASE_URL and that the database is up/);
});

Deno.test("rollout status: an unreachable dashboard and a missing OPS_TOKEN are shown, not fatal", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const result = await rollout(["status"], { DASHBOARD_URL: `http://127.0.0.1:${port}`, OPS_TOKEN: "" });
  assert.equal(result.code, 0, result.text);
  assert.match(
    result.stdout,
    /health \(http:\/\/127\.0\.0\.1:\d+\/api\/health\): unreachable \(connection failed\)/,
  );
  assert.match(result.stdout, /alerts \(.*\): not fetched: OPS_TOKEN is not set/);
  assert.match(result.stdout, /^WEBHOOK_PROCESSING_ENABLED +(on|off) /m);
});
