// Acceptance test of the rollout plan: the real CLI walks dark launch → limited traffic (scheduler
// 20%, notifications 10% of companies) → full → rollback → resume on the test stack. At each phase
// signed webhooks arrive and the dispatcher runs; the test checks what is processed, sent (the Whop
// sandbox's call log) and suppressed, and that `verify` passes or fails as the metrics dictate.
// Companies are picked by the rollout bucket the database computes (private.company_bucket).
import assert from "node:assert/strict";
import { paymentEvent } from "../../whop-sandbox/payloads.ts";
import { rollout, type TaskResult } from "../support/cli.ts";
import { isolateQueue, sandbox, withDispatchApp } from "../support/dispatch.ts";
import { connectAsOwner } from "../support/stack.ts";
import { signedRequest, withWebhookApp } from "../support/webhooks.ts";

type Sql = ReturnType<typeof connectAsOwner>;
const PREFIX = "biz_rollphase";

/** A fresh company id (with settings: pushes only, no incentive) whose bucket is in [min, max). */
async function companyInBuckets(sql: Sql, min: number, max: number): Promise<string> {
  for (;;) {
    const id = `${PREFIX}${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const [{ bucket }] = await sql<{ bucket: number }[]>`select private.company_bucket(${id}) as bucket`;
    if (bucket >= min && bucket < max) {
      await sql`insert into public.companies (company_id, title) values (${id}, 'Rollout Co')`;
      await sql`insert into public.company_settings (company_id, experience_id, dm_enabled, incentive_free_days)
                values (${id}, 'exp_rollout', false, 0)`;
      return id;
    }
  }
}

function ok(result: TaskResult, what: string) {
  assert.equal(result.code, 0, `${what} failed:\n${result.text}`);
}

/** The result column of a criterion's row in the verify table (columns are 2+ spaces apart). */
function criterion(result: TaskResult, name: string): string {
  const row = result.stdout.split("\n").find((line) => line.startsWith(`${name}  `));
  assert.ok(row, `no criterion "${name}" in:\n${result.text}`);
  return row.split(/\s{2,}/).at(-1)!;
}

Deno.test("rollout phases: dark launch → limited → full → rollback → resume, verified at each step", async () => {
  const sql = connectAsOwner();
  const savedFlags =
    await sql`select name, enabled, rollout_percent, company_allowlist, updated_by, updated_at
                               from public.feature_flags`;
  const [{ started, lastAudit }] = await sql`
    select now() as started, coalesce(max(id), 0) as "lastAudit" from public.audit_log`;
  const users: Record<string, string> = {};
  let n = 0;
  const webhook = async (type: "payment.failed" | "payment.succeeded", companyId: string, member: string) => {
    users[member] ??= `user_${companyId.slice(4)}_${member}`;
    const body = paymentEvent(type, {
      companyId,
      membershipId: `mem_${companyId.slice(4)}_${member}`,
      userId: users[member],
      timestamp: new Date(Date.now() - 60_000 + n++).toISOString(),
    });
    let answer: { status: number; body: Record<string, unknown> } | undefined;
    await withWebhookApp(async ({ send }) => {
      answer = await send(await signedRequest(body));
    });
    assert.equal(answer!.status, 200, JSON.stringify(answer));
    return answer!.body.processed as boolean;
  };
  const dispatch = async () => {
    let counts: Record<string, number> = {};
    await withDispatchApp(async (run) => {
      counts = await run();
    });
    return counts;
  };
  /** How many pushes the sandbox received for each member (by user id). */
  const pushesTo = async (...members: string[]) => {
    const calls = await sandbox.calls("/api/v1/notifications");
    return members.map((member) =>
      calls.filter((call) =>
        call.status === 200 && (call.body?.user_ids as string[])?.includes(users[member])
      )
        .length
    );
  };
  const jobStatus = async (member: string) =>
    (await sql`select j.status from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
               where rc.user_id = ${users[member]} and j.step = 0`).map((row) => row.status).join(",");
  const caseStatus = async (member: string) =>
    (await sql`select status from public.recovery_cases where user_id = ${users[member]}`).map((row) =>
      row.status
    )
      .join(",");

  try {
    await isolateQueue(sql, PREFIX);
    // A known start whatever earlier test files left: everything off, no percentages, no lists.
    await sql`update public.feature_flags set enabled = false, rollout_percent = 100, company_allowlist = '{}'`;
    // In both rollouts (bucket < 10), in the scheduler's 20% only, in neither, and one outside
    // both that the notifications allow-list names.
    const inside = await companyInBuckets(sql, 0, 10);
    const schedulerOnly = await companyInBuckets(sql, 10, 20);
    const outside = await companyInBuckets(sql, 20, 100);
    const listed = await companyInBuckets(sql, 20, 100);

    // --- dark launch: processed into cases, nothing claimed or sent.
    ok(await rollout(["dark-launch", "--actor", "phase-walker"]), "dark-launch");
    const [audit] = await sql`select actor, action, before, after from public.audit_log
                              where company_id is null order by id desc limit 1`;
    assert.equal(audit.actor, "phase-walker");
    assert.equal(audit.action, "rollout.dark_launch");
    assert.equal(audit.after.flags.WEBHOOK_PROCESSING_ENABLED.enabled, true);
    assert.equal(audit.after.flags.SCHEDULER_ENABLED.enabled, false);
    assert.ok(audit.before.flags.ROLLBACK_MODE, "the flags before are recorded");

    for (const [company, member] of [[inside, "a1"], [schedulerOnly, "b1"], [outside, "c1"]]) {
      assert.equal(await webhook("payment.failed", company, member), true, "processed in the dark launch");
    }
    assert.deepEqual([await caseStatus("a1"), await caseStatus("b1"), await caseStatus("c1")], [
      "open",
      "open",
      "open",
    ]);
    const dark = await dispatch();
    assert.equal(dark.claimed ?? 0, 0, `dark launch claims nothing: ${JSON.stringify(dark)}`);
    assert.deepEqual(await pushesTo("a1", "b1", "c1"), [0, 0, 0]);
    assert.equal(await jobStatus("a1"), "pending");

    // Seconds after the change nothing has failed, yet nothing has been observed either: not a pass.
    const tooEarly = await rollout(["verify", "dark"]);
    assert.equal(tooEarly.code, 3, `too early is its own exit code:\n${tooEarly.text}`);
    assert.equal(criterion(tooEarly, "webhooks received"), "PASS");
    assert.match(
      tooEarly.stdout,
      /dark launch: TOO EARLY \(not a pass\): observed for \d+ s; the phase needs 24 h\. .*verify again after \d{4}-/,
    );
    assert.doesNotMatch(tooEarly.stdout, /dark launch: PASS/);
    const verifyDark = await rollout(["verify", "dark", "--min-observation", "0"]);
    ok(verifyDark, "verify dark");
    assert.equal(criterion(verifyDark, "webhooks received"), "PASS");
    assert.equal(criterion(verifyDark, "notifications sent"), "PASS");
    assert.match(verifyDark.stdout, /dark launch: PASS/);
    const wrongPhase = await rollout(["verify", "full"]);
    assert.equal(wrongPhase.code, 1, "verify full fails during the dark launch");
    assert.equal(criterion(wrongPhase, "flags are in this phase"), "FAIL");

    // --- limited traffic: scheduler 20%, notifications 10% plus one listed company.
    const rampScheduler = await rollout(["ramp", "scheduler", "20"]);
    ok(rampScheduler, "ramp scheduler");
    const rampNotifications = await rollout(["ramp", "notifications", "10", "--companies", listed]);
    ok(rampNotifications, "ramp notifications");
    // Each ramp says how many companies it reaches, by the hash claim_due_jobs applies per company.
    const [reach] = await sql<
      { companies: number; scheduler20: number; scheduled: number; notified: number }[]
    >`
      select count(*)::int as companies,
             count(*) filter (where private.company_bucket(company_id) < 20)::int as scheduler20,
             count(*) filter (where private.company_bucket(company_id) < 20 or company_id = ${listed})::int as scheduled,
             count(*) filter (where private.company_bucket(company_id) < 10 or company_id = ${listed})::int as notified
      from public.companies`;
    assert.match(
      rampScheduler.stdout,
      new RegExp(`^SCHEDULER_ENABLED +covers ${reach.scheduler20} of ${reach.companies} companies`, "m"),
    );
    assert.match(
      rampNotifications.stdout,
      new RegExp(
        `^NOTIFICATIONS_ENABLED +covers ${reach.notified} of ${reach.companies} companies +1 of them`,
        "m",
      ),
    );
    assert.match(
      rampNotifications.stdout,
      new RegExp(`^SCHEDULER_ENABLED +covers ${reach.scheduled} of ${reach.companies} companies`, "m"),
    );
    assert.match(
      rampNotifications.stdout,
      /^nudges sent \(scheduled and notified\) +covers \d+ of \d+ companies/m,
    );
    const flags = Object.fromEntries(
      (await sql`select name, enabled, rollout_percent, company_allowlist from public.feature_flags`).map((
        row,
      ) => [row.name, row]),
    );
    assert.equal(flags.SCHEDULER_ENABLED.rollout_percent, 20);
    assert.equal(flags.NOTIFICATIONS_ENABLED.rollout_percent, 10);
    assert.deepEqual(flags.NOTIFICATIONS_ENABLED.company_allowlist, [listed]);
    assert.deepEqual(
      flags.SCHEDULER_ENABLED.company_allowlist,
      [listed],
      "the listed company gets scheduled too",
    );

    for (
      const [company, member] of [[inside, "a2"], [schedulerOnly, "b2"], [outside, "c2"], [listed, "d1"]]
    ) {
      assert.equal(await webhook("payment.failed", company, member), true);
    }
    const limited = await dispatch();
    assert.deepEqual([limited.sent, limited.suppressed], [3, 2], `limited: ${JSON.stringify(limited)}`);
    assert.deepEqual(await pushesTo("a1", "a2", "d1", "b1", "b2", "c1", "c2"), [1, 1, 1, 0, 0, 0, 0]);
    assert.deepEqual(
      [await jobStatus("a1"), await jobStatus("b1"), await jobStatus("c1"), await jobStatus("d1")],
      ["sent", "suppressed", "pending", "sent"],
      "inside: sent; scheduler only: suppressed; outside: not claimed; listed: sent",
    );

    const status = await rollout(["status"]);
    ok(status, "status");
    assert.match(status.stdout, /phase: limited traffic — processing 100%, scheduler 20% \+ 1 listed/);
    assert.match(status.stdout, /^NOTIFICATIONS_ENABLED +on +10% +biz_rollphase/m);
    assert.match(status.stdout, /health \(.*\/api\/health\): /);
    assert.match(status.stdout, /alerts \(.*\/api\/alerts\): /);
    assert.match(status.stdout, /limited traffic: (TOO EARLY|FAIL)/, "just ramped: no pass yet");

    const verifyLimited = await rollout(["verify", "limited", "--min-observation", "0"]);
    ok(verifyLimited, "verify limited");
    assert.equal(criterion(verifyLimited, "sent to companies outside the rollout"), "PASS");
    assert.match(verifyLimited.stdout, /^suppressed outside the rollout +2 /m);

    // A planted violation: job a1 delivered twice. verify and integrity catch it, with its id.
    const [{ id: jobA1 }] =
      await sql`select j.id from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
                                      where rc.user_id = ${users.a1} and j.step = 0`;
    ok(await rollout(["integrity", "--since", started.toISOString()]), "integrity before the plant");
    const [planted] = await sql`insert into public.notification_attempts (job_id, company_id, status)
                                values (${jobA1}, ${inside}, 'sent') returning id`;
    const caught = await rollout(["verify", "limited"]);
    assert.equal(caught.code, 1, `verify fails on a job sent twice:\n${caught.text}`);
    assert.equal(criterion(caught, "integrity: job_sent_once"), "FAIL");
    assert.match(caught.stdout, /limited traffic: FAIL/);
    const integrity = await rollout(["integrity", "--since", started.toISOString()]);
    assert.equal(integrity.code, 1, integrity.text);
    assert.match(integrity.stdout, new RegExp(`^job_sent_once +FAIL +1 +${jobA1} `, "m"));
    await sql`delete from public.notification_attempts where id = ${planted.id}`;
    ok(
      await rollout(["verify", "limited", "--min-observation", "0"]),
      "verify limited without the planted violation",
    );

    // --- full: every company; the jobs the rollout held back go out now.
    ok(await rollout(["full"]), "full");
    assert.equal(await webhook("payment.failed", schedulerOnly, "b3"), true);
    const full = await dispatch();
    // c1 and c2 waited unclaimed; b3 is new. b1/b2 stay suppressed (a decision, not a delay).
    assert.equal(full.sent, 3, `full: ${JSON.stringify(full)}`);
    assert.deepEqual(await pushesTo("c1", "c2", "b3", "b1"), [1, 1, 1, 0]);
    const verifyFull = await rollout(["verify", "full", "--min-observation", "0"]);
    ok(verifyFull, "verify full");
    assert.equal(criterion(verifyFull, "suppressed by the rollout"), "PASS");

    // A due job waits when the rollback comes.
    assert.equal(await webhook("payment.failed", outside, "c3"), true);

    // --- rollback: stored, not processed; nothing claimed or sent.
    ok(await rollout(["rollback"]), "rollback");
    assert.equal(await webhook("payment.succeeded", inside, "a1"), false, "stored, not processed");
    assert.equal(await webhook("payment.failed", listed, "d2"), false);
    const rolledBack = await dispatch();
    assert.equal(rolledBack.claimed ?? 0, 0, JSON.stringify(rolledBack));
    assert.equal(await caseStatus("a1"), "open", "the success waits");
    assert.equal(await caseStatus("d2"), "", "no case yet");
    assert.equal(await jobStatus("c3"), "pending");
    assert.deepEqual(await pushesTo("c3", "d2"), [0, 0]);
    const verifyRollback = await rollout(["verify", "rollback", "--grace", "0", "--min-observation", "0"]);
    ok(verifyRollback, "verify rollback");
    assert.equal(criterion(verifyRollback, "delivery attempts"), "PASS");
    const fullDuringRollback = await rollout(["verify", "full"]);
    assert.equal(fullDuringRollback.code, 1, "verify full fails while rolled back");
    assert.equal(criterion(fullDuringRollback, "flags are in this phase"), "FAIL");

    // --- resume: back to full; what arrived meanwhile is processed, the waiting job goes out.
    const resumed = await rollout(["resume"]);
    ok(resumed, "resume");
    assert.match(resumed.stdout, /phase now: full/);
    assert.match(resumed.stdout, /summary: \d+ events of \d+ memberships processed/);
    assert.equal(await caseStatus("a1"), "recovered");
    assert.equal(await caseStatus("d2"), "open");
    const after = await dispatch();
    assert.equal(after.sent, 2, `after resume: ${JSON.stringify(after)}`);
    assert.deepEqual(await pushesTo("c3", "d2"), [1, 1]);
    ok(await rollout(["verify", "full", "--min-observation", "0"]), "verify full after resume");

    const actions = await sql`select actor, action from public.audit_log
                              where company_id is null and id > ${lastAudit} order by id`;
    assert.deepEqual(actions.map((row) => `${row.actor} ${row.action}`), [
      "phase-walker rollout.dark_launch",
      "rollout-test rollout.ramp_scheduler",
      "rollout-test rollout.ramp_notifications",
      "rollout-test rollout.full",
      "rollout-test rollout.rollback",
      "rollout-test rollout.resume",
    ]);
  } finally {
    // Other test files rely on the flags the stack had.
    for (const flag of savedFlags) {
      await sql`update public.feature_flags set enabled = ${flag.enabled}, rollout_percent = ${flag.rollout_percent},
                company_allowlist = ${flag.company_allowlist}, updated_by = ${flag.updated_by},
                updated_at = ${flag.updated_at} where name = ${flag.name}`;
    }
    await sql.end();
  }
});
