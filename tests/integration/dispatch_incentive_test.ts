// The free-days incentive as the member lives it, over the real database, dispatcher and sandbox: the
// days are granted right after the first message that reaches the member, which announces them; a
// message Whop refused grants nothing; later steps speak of the days as given, with the number the
// case opened with even after the setting changed; and a case Whop gives no destination gets its
// nudges without a link rather than with one to an apology.
import assert from "node:assert/strict";
import { paymentEvent } from "../../whop-sandbox/payloads.ts";
import { isolateQueue, sandbox, type SandboxCall, withDispatchApp } from "../support/dispatch.ts";
import { connectAsOwner } from "../support/stack.ts";
import { enableEverything, signedRequest, uniqueCompany, withWebhookApp } from "../support/webhooks.ts";

const NOTIFICATIONS = "/api/v1/notifications";
const MESSAGES = "/api/v1/messages";

async function openCase(sql: ReturnType<typeof connectAsOwner>, prefix: string, knownToWhop = true) {
  await enableEverything(sql);
  await sandbox.clearFaults();
  const companyId = uniqueCompany(prefix);
  const membershipId = `mem_${companyId.slice(4)}`;
  const userId = `user_${companyId.slice(4)}`;
  await isolateQueue(sql, companyId);
  await sql`insert into public.companies (company_id, title) values (${companyId}, 'Honest Gym')`;
  await sql`insert into public.company_settings (company_id, experience_id, incentive_free_days, nudge_offsets_days)
            values (${companyId}, 'exp_honest', 3, '{0,2,4,6}')`;
  if (knownToWhop) {
    await sandbox.fixtures({
      memberships: [{ id: membershipId, user_id: userId, company_id: companyId, status: "past_due" }],
    });
  }
  await withWebhookApp(async ({ send }) => {
    const failed = paymentEvent("payment.failed", { companyId, membershipId, userId, amount: 25 });
    assert.equal((await send(await signedRequest(failed))).status, 200);
  });
  const [row] = await sql<
    { id: string }[]
  >`select id from public.recovery_cases where company_id = ${companyId}`;
  return { companyId, membershipId, caseId: row.id };
}

/** This case's calls to Whop, in the order the sandbox saw them. */
async function callsOf(sql: ReturnType<typeof connectAsOwner>, caseId: string, membershipId: string) {
  const jobs = await sql`select id from public.job_queue where case_id = ${caseId}`;
  const keys = new Set(jobs.map((job) => `job:${job.id}`));
  return (await sandbox.calls())
    .filter((call) =>
      keys.has(String(call.idempotency_key).replace(/:(channel|message)$/, "")) ||
      call.path === `/api/v1/memberships/${membershipId}/add_free_days`
    )
    .sort((a, b) => a.seq - b.seq);
}

const content = (call: SandboxCall | undefined) => String(call?.body?.content ?? "").replaceAll("**", "");
const grants = (calls: SandboxCall[]) => calls.filter((call) => call.path.endsWith("/add_free_days"));

async function makeStepDue(sql: ReturnType<typeof connectAsOwner>, caseId: string, step: number) {
  await sql`update public.job_queue set scheduled_for = now() - interval '1 second'
            where case_id = ${caseId} and step = ${step} and channel in ('push', 'dm') and status = 'pending'`;
}

Deno.test("the free days follow the delivered message that announces them; later steps say they were given", async () => {
  const sql = connectAsOwner();
  try {
    const { caseId, membershipId, companyId } = await openCase(sql, "honest");
    await withDispatchApp(async (dispatch) => {
      await dispatch();
      let calls = await callsOf(sql, caseId, membershipId);
      const firstMessage = calls.findIndex((call) => call.path === NOTIFICATIONS || call.path === MESSAGES);
      const grant = calls.findIndex((call) => call.path.endsWith("/add_free_days"));
      assert.ok(firstMessage >= 0 && grant > firstMessage, "the grant comes after a message, not before");
      assert.deepEqual(calls[grant].body, { free_days: 3 });
      for (const call of calls.filter((c) => c.path === NOTIFICATIONS || c.path === MESSAGES)) {
        assert.match(content(call), /We're adding 3 free days to your membership/, "day 0 announces them");
      }

      // The creator now offers 7: this case was offered 3, and its later messages say so.
      await sql`update public.company_settings set incentive_free_days = 7 where company_id = ${companyId}`;
      for (const step of [1, 2, 3]) {
        await makeStepDue(sql, caseId, step);
        await dispatch();
      }
      calls = await callsOf(sql, caseId, membershipId);
      const later = calls.filter((call) => call.path === MESSAGES).slice(1);
      assert.equal(later.length, 3);
      for (const call of later) {
        assert.match(content(call), /We've already added 3 free days/);
        assert.doesNotMatch(content(call), /\b7 free days|we'll add/i);
      }
      assert.deepEqual(
        later.map((call) => /last reminder/i.test(content(call))),
        [false, false, true],
        "a four-step schedule says 'last reminder' once, on its last step",
      );
      assert.equal(grants(calls).length, 1, "granted once");
    });
  } finally {
    await sql.end();
  }
});

Deno.test("a message Whop refused grants nothing; the next delivered one announces and releases the days", async () => {
  const sql = connectAsOwner();
  try {
    const { caseId, membershipId } = await openCase(sql, "refused");
    await sandbox.fault({ method: "POST", path: NOTIFICATIONS, status: 403, times: 10 });
    await sandbox.fault({ method: "POST", path: MESSAGES, status: 403, times: 10 });
    await withDispatchApp(async (dispatch) => {
      await dispatch();
      assert.equal(
        grants(await callsOf(sql, caseId, membershipId)).length,
        0,
        "no days without a delivered message",
      );
      const [waiting] = await sql`select status, scheduled_for from public.job_queue
                                  where case_id = ${caseId} and channel = 'incentive'`;
      assert.equal(waiting.status, "pending");

      await sandbox.clearFaults();
      await makeStepDue(sql, caseId, 1);
      await dispatch();
      const calls = await callsOf(sql, caseId, membershipId);
      const delivered = calls.filter((call) => call.status === 200 && call.path === MESSAGES);
      assert.equal(delivered.length, 1);
      assert.match(
        content(delivered[0]),
        /We're adding 3 free days/,
        "the first delivered message announces them",
      );
      assert.equal(grants(calls).length, 1);
      assert.ok(grants(calls)[0].seq > delivered[0].seq);
    });
  } finally {
    await sandbox.clearFaults();
    await sql.end();
  }
});

Deno.test("with no destination at all the message has no link", async () => {
  const sql = connectAsOwner();
  try {
    // Whop does not know the membership (404): no recovery_url, no manage_url, nothing to fetch.
    const { caseId, membershipId } = await openCase(sql, "nolink", false);
    await withDispatchApp(async (dispatch) => {
      await dispatch();
      const calls = await callsOf(sql, caseId, membershipId);
      const messages = calls.filter((call) => call.path === NOTIFICATIONS || call.path === MESSAGES);
      assert.equal(messages.length, 2, "push and DM still go out");
      for (const call of messages) {
        assert.doesNotMatch(content(call), /https?:\/\/|\/r\//, content(call));
        assert.doesNotMatch(content(call), /here:\s*$|:\s*$/m);
      }
      const [kept] =
        await sql`select manage_url_looked_up_at from public.recovery_cases where id = ${caseId}`;
      assert.ok(kept.manage_url_looked_up_at, "Whop was asked once and answered");
    });
  } finally {
    await sql.end();
  }
});
