// Data-subject rights end to end: a member arrives through real signed webhooks, gets nudged by the
// dispatcher and clicks the tracked link; `deno task privacy export` returns their data decrypted,
// `deno task privacy erase` removes every row that mentions them (scanned in every table), and
// another member of the same company is left exactly as they were.
import assert from "node:assert/strict";
import { emailBlindIndex, loadKeyRing } from "../../supabase/functions/_shared/crypto/pii.ts";
import { paymentEvent } from "../../whop-sandbox/payloads.ts";
import { runTask } from "../support/cli.ts";
import { isolateQueue, sandbox, withDispatchApp } from "../support/dispatch.ts";
import { connectAsOwner, stackVar } from "../support/stack.ts";
import { enableEverything, signedRequest, uniqueCompany, withWebhookApp } from "../support/webhooks.ts";

type Sql = ReturnType<typeof connectAsOwner>;

/** Every row of every public table that contains one of `needles`, as "table: row". */
async function mentions(sql: Sql, needles: string[]) {
  const tables = await sql<{ name: string }[]>`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r'`;
  const found: string[] = [];
  for (const { name } of tables) {
    // Table names come from the catalog, not from input.
    const rows = await sql.unsafe(`select t::text as row from public."${name}" t`);
    for (const { row } of rows) {
      for (const needle of needles) if (String(row).includes(needle)) found.push(`${name}: ${row}`);
    }
  }
  return found;
}

/** Everything stored about one member, for comparing before and after. */
async function snapshot(sql: Sql, companyId: string, userId: string) {
  return {
    members: await sql`select * from public.members where company_id = ${companyId} and user_id = ${userId}`,
    events:
      await sql`select * from public.events where company_id = ${companyId} and user_id = ${userId} order by id`,
    cases:
      await sql`select * from public.recovery_cases where company_id = ${companyId} and user_id = ${userId}`,
    jobs: await sql`select j.* from public.job_queue j join public.recovery_cases c on c.id = j.case_id
                    where c.company_id = ${companyId} and c.user_id = ${userId} order by j.id`,
    attempts:
      await sql`select a.* from public.notification_attempts a join public.job_queue j on j.id = a.job_id
                        join public.recovery_cases c on c.id = j.case_id
                        where c.company_id = ${companyId} and c.user_id = ${userId} order by a.id`,
  };
}

Deno.test("export returns a member's data decrypted; erase leaves no row mentioning them and no one else's changed", async () => {
  const sql = connectAsOwner();
  const companyId = uniqueCompany("dsr");
  const suffix = companyId.slice(4);
  const member = {
    userId: `user_dsr${suffix}`,
    membershipId: `mem_dsr${suffix}`,
    email: `Erase.Me+${suffix}@Example.com`,
    name: `Erin Erasable ${suffix}`,
  };
  const other = {
    userId: `user_keep${suffix}`,
    membershipId: `mem_keep${suffix}`,
    email: `keep${suffix}@example.com`,
  };
  const dir = await Deno.makeTempDir();
  try {
    await enableEverything(sql);
    await isolateQueue(sql, companyId);
    await sql`insert into public.companies (company_id, title) values (${companyId}, 'Privacy Academy')`;
    await sql`insert into public.company_settings (company_id, experience_id) values (${companyId}, 'exp_dsr')`;
    await sandbox.fixtures({
      memberships: [member, other].map((m) => ({
        id: m.membershipId,
        user_id: m.userId,
        company_id: companyId,
        status: "past_due",
      })),
    });

    // Both members fail a payment; the dispatcher nudges them; the member clicks their link.
    await withWebhookApp(async ({ send }) => {
      for (const m of [member, other]) {
        const failed = paymentEvent("payment.failed", {
          companyId,
          ...m,
          recoveryUrl: `https://whop.com/billing/recover/${m.membershipId}`,
          timestamp: new Date(Date.now() - 60_000).toISOString(),
        });
        assert.equal((await send(await signedRequest(failed))).status, 200);
      }
    });
    await withDispatchApp(async (dispatch) => {
      const round = await dispatch();
      assert.equal(round.sent, 6, `day 0 for both: ${JSON.stringify(round)}`);
    });
    const push = (await sandbox.calls("/api/v1/notifications")).findLast((call) =>
      JSON.stringify(call.body?.user_ids) === JSON.stringify([member.userId])
    );
    const link = String(push?.body?.content).match(/https?:\/\/[^\s)]+\/r\/[A-Za-z0-9._~-]+/)?.[0];
    assert.ok(link, "the nudge carries a tracked link");
    const click = await fetch(link, {
      redirect: "manual",
      headers: { "user-agent": "Mozilla/5.0 (iPhone) Safari" },
    });
    await click.body?.cancel();
    assert.equal(click.status, 302);

    const [stored] =
      await sql`select * from public.members where company_id = ${companyId} and user_id = ${member.userId}`;
    const [caseRow] =
      await sql`select id from public.recovery_cases where membership_id = ${member.membershipId}`;
    const [event] =
      await sql`select id, payload_ciphertext from public.events where user_id = ${member.userId}`;
    const [{ clicks }] =
      await sql`select count(*)::int as clicks from public.link_clicks where case_id = ${caseRow.id}`;
    assert.equal(clicks, 1, "fixture: the click is recorded");
    const ring = await loadKeyRing(stackVar("ENCRYPTION_KEYS"));
    assert.equal(stored.email_blind_index, await emailBlindIndex(ring, member.email));
    const otherBefore = await snapshot(sql, companyId, other.userId);

    // Export, found by email typed differently.
    const out = `${dir}/export.json`;
    const exported = await runTask("privacy", [
      "export",
      "--email",
      ` ${member.email.toUpperCase()} `,
      "--out",
      out,
    ]);
    assert.equal(exported.code, 0, exported.text);
    assert.match(exported.stderr, /summary: 1 user id\(s\) found/);
    assert.ok(!exported.text.includes(member.name), "progress and summary hold no PII");
    const doc = JSON.parse(await Deno.readTextFile(out));
    assert.deepEqual(doc.user_ids, [member.userId]);
    assert.equal(doc.members.length, 1);
    assert.equal(doc.members[0].email, member.email);
    assert.equal(doc.members[0].name, member.name);
    assert.equal(doc.members[0].email_ciphertext, undefined, "decrypted, not the ciphertext");
    assert.equal(doc.events[0].payload.data.user.email, member.email, "the raw payload, decrypted");
    assert.equal(doc.events[0].cancellation_reason, null, "a payment event has no cancellation reason");
    assert.ok(
      !("cancellation_reason_ciphertext" in doc.events[0]),
      "an event's fields are decrypted, not ciphertext",
    );
    assert.equal(doc.cases.length, 1);
    assert.equal(doc.clicks.length, 1);
    assert.ok(
      doc.jobs.length >= 3 && doc.attempts.length >= 3,
      `jobs and attempts: ${JSON.stringify(doc.counts)}`,
    );
    assert.equal((await Deno.stat(out)).mode! & 0o077, 0, "the export file is private to its owner");

    // Without --yes and without a terminal, erase asks and deletes nothing.
    const refused = await runTask("privacy", ["erase", "--user", other.userId]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.text, /needs a confirmation/);
    assert.deepEqual(await snapshot(sql, companyId, other.userId), otherBefore);

    const erased = await runTask("privacy", ["erase", "--user", member.userId, "--yes"]);
    assert.equal(erased.code, 0, erased.text);
    assert.match(erased.stdout, /summary: erased/);
    assert.match(erased.stdout, /events\s+1\n/);

    const left = await mentions(sql, [
      member.userId,
      member.membershipId,
      stored.email_blind_index,
      stored.email_ciphertext,
      stored.name_ciphertext,
      event.id,
      event.payload_ciphertext,
      caseRow.id,
    ]);
    assert.deepEqual(left, [], "no row mentions the erased member");
    assert.deepEqual(
      await snapshot(sql, companyId, other.userId),
      otherBefore,
      "the other member is untouched",
    );

    const audit = await sql`select action, actor, after from public.audit_log
                            where action in ('privacy.export', 'privacy.erase') and created_at > now() - interval '5 minutes'
                            order by id desc limit 2`;
    assert.deepEqual(audit.map((row) => row.action), ["privacy.erase", "privacy.export"]);
    assert.equal(audit[0].after.events, 1);

    const again = await runTask("privacy", ["erase", "--user", member.userId, "--yes"]);
    assert.equal(again.code, 0, again.text);
    assert.match(again.stdout, /Nothing is stored/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sql`delete from public.companies where company_id = ${companyId}`;
    await sql.end();
  }
});

Deno.test("privacy CLI explains bad arguments", async () => {
  for (
    const [args, message] of [
      [[], /a command is required/],
      [["export"], /exactly one of --user and --email/],
      [["erase", "--user", "u1", "--email", "a@b.c"], /exactly one of/],
      [["export", "--email", "not-an-email"], /must be an email address/],
      [["export", "--user", "user 1"], /must be a Whop user id/],
      [["rotate-keys", "--batch", "0"], /--batch must be/],
      [["erase", "--user", "u1", "--out", "x.json"], /unknown option "--out"/],
    ] as const
  ) {
    const result = await runTask("privacy", [...args]);
    assert.equal(result.code, 2, result.text);
    assert.match(result.text, message);
  }
  const noKeys = await runTask("privacy", ["export", "--user", "user_x"], { ENCRYPTION_KEYS: "k1:short" });
  assert.equal(noKeys.code, 2);
  assert.match(noKeys.text, /ENCRYPTION_KEYS key "k1"/);
});

Deno.test("export of a member nothing mentions writes nothing, says so and exits 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/export.json`;
    const byId = await runTask("privacy", [
      "export",
      "--user",
      `user_nobody${crypto.randomUUID().slice(0, 8)}`,
      "--out",
      out,
    ]);
    assert.equal(byId.code, 1, byId.text);
    assert.match(
      byId.stderr,
      /nothing is stored about user user_nobody\w+; no export written\. Check the id/,
    );
    assert.doesNotMatch(byId.text, /user id\(s\)/, "no count of ids that merely echoes the one asked for");
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound, "no export file for nobody");

    const byEmail = await runTask("privacy", [
      "export",
      "--email",
      `nobody.${crypto.randomUUID()}@example.com`,
    ]);
    assert.equal(byEmail.code, 1, byEmail.text);
    assert.match(
      byEmail.stderr,
      /nothing is stored about the given email; no export written\. Check the address/,
    );
    assert.equal(byEmail.stdout, "", "nothing on stdout either");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
