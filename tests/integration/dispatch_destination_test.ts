// A payment failure as Whop sends it (no recovery_url, no manage_url) still gives the member a way
// to pay: before the first message the dispatcher reads the membership from Whop (the sandbox) and
// keeps its manage_url with the case, so the DM's link and the push's tap both land there, and the
// membership is read once, not per message.
import assert from "node:assert/strict";
import { manageUrlFor, paymentEvent } from "../../whop-sandbox/payloads.ts";
import { userToken } from "../support/dashboard.ts";
import { isolateQueue, sandbox, withDispatchApp } from "../support/dispatch.ts";
import { connectAsOwner, stack } from "../support/stack.ts";
import { enableEverything, signedRequest, uniqueCompany, withWebhookApp } from "../support/webhooks.ts";

async function openFailedCase(sql: ReturnType<typeof connectAsOwner>, known: boolean) {
  await enableEverything(sql);
  const companyId = uniqueCompany("dest");
  const membershipId = `mem_${companyId.slice(4)}`;
  const userId = `user_${companyId.slice(4)}`;
  await isolateQueue(sql, companyId);
  await sql`insert into public.companies (company_id, title) values (${companyId}, 'Destination Club')`;
  await sql`insert into public.company_settings (company_id, experience_id) values (${companyId}, 'exp_dest')`;
  if (known) {
    await sandbox.fixtures({
      memberships: [{ id: membershipId, user_id: userId, company_id: companyId, status: "past_due" }],
    });
  }
  await withWebhookApp(async ({ send }) => {
    const failed = paymentEvent("payment.failed", { companyId, membershipId, userId, amount: 19 });
    assert.equal("recovery_url" in failed.data, false, "the documented Payment has no recovery_url");
    assert.equal((await send(await signedRequest(failed))).status, 200);
  });
  const [row] = await sql<
    { id: string }[]
  >`select id from public.recovery_cases where company_id = ${companyId}`;
  return { caseId: row.id, membershipId, userId };
}

async function follow(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    redirect: "manual",
    headers: { "user-agent": "Mozilla/5.0 Safari", ...headers },
  });
  await response.body?.cancel();
  return response;
}

Deno.test("without recovery_url the DM link and the push tap land on the membership's manage_url", async () => {
  const sql = connectAsOwner();
  try {
    const { caseId, membershipId, userId } = await openFailedCase(sql, true);
    await withDispatchApp(async (dispatch) => {
      const round = await dispatch();
      assert.ok(round.sent >= 2, JSON.stringify(round));
      const [kept] = await sql`select fetched_manage_url from public.recovery_cases where id = ${caseId}`;
      assert.equal(kept.fetched_manage_url, manageUrlFor(membershipId));

      const calls = await sandbox.calls();
      const reads = calls.filter((call) =>
        call.method === "GET" && call.path === `/api/v1/memberships/${membershipId}`
      );
      // The free-days grant (released by the first delivered message) reads it once more, right before
      // it: what a retry after an unknown outcome compares with (unknown_outcome.ts).
      const grants = calls.filter((call) =>
        call.path === `/api/v1/memberships/${membershipId}/add_free_days`
      );
      assert.equal(
        reads.length,
        1 + grants.length,
        "the membership is read once for all of the case's messages",
      );
      const jobs = await sql`select id from public.job_queue where case_id = ${caseId}`;
      const keys = new Set(jobs.map((job) => `job:${job.id}`));
      const ours = calls.filter((call) =>
        keys.has(String(call.idempotency_key).replace(/:(channel|message)$/, ""))
      );
      const dm = ours.find((call) => call.path === "/api/v1/messages");
      const link = String(dm?.body?.content).match(/https?:\/\/[^\s)]+\/r\/[A-Za-z0-9._~-]+/)?.[0];
      assert.ok(link, "a tracked link in the DM");
      const click = await follow(link);
      assert.equal(click.status, 302);
      assert.equal(click.headers.get("location"), manageUrlFor(membershipId));

      const push = ours.find((call) =>
        call.path === "/api/v1/notifications" && call.body?.rest_path === `recover/${caseId}`
      );
      assert.ok(push, "the push carries the case's rest_path");
      const tap = await follow(`${stack.dashboardUrl}/experiences/exp_dest/${push.body!.rest_path}`, {
        "x-whop-user-token": await userToken(userId),
      });
      assert.equal(tap.status, 302);
      assert.equal(tap.headers.get("location"), manageUrlFor(membershipId));
    });
  } finally {
    await sql.end();
  }
});

Deno.test("a membership Whop does not know leaves the case without a destination; the nudge still goes", async () => {
  const sql = connectAsOwner();
  try {
    const { caseId } = await openFailedCase(sql, false);
    await withDispatchApp(async (dispatch) => {
      const round = await dispatch();
      assert.ok(round.sent >= 2, JSON.stringify(round));
      const [kept] = await sql`select fetched_manage_url from public.recovery_cases where id = ${caseId}`;
      assert.equal(kept.fetched_manage_url, null);
    });
  } finally {
    await sql.end();
  }
});
