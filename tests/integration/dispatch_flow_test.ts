// The whole nudge flow over the real database, function and sandbox: a signed payment.failed leads
// to the day-0 push, DM and incentive reaching Whop with the right user, experience, text and a
// working tracked link; days 2 and 4 go out at the company's send hour; a payment.succeeded after a
// click closes the case as click_through with the amount, and what is left is cancelled, not sent.
import assert from "node:assert/strict";
import { membershipEvent, paymentEvent } from "../../whop-sandbox/payloads.ts";
import { isolateQueue, sandbox, withDispatchApp } from "../support/dispatch.ts";
import { connectAsOwner, stack } from "../support/stack.ts";
import { enableEverything, signedRequest, uniqueCompany, withWebhookApp } from "../support/webhooks.ts";

const berlinHour = (date: Date) =>
  Number(
    new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", hour12: false }).format(
      date,
    ),
  );
const berlinDay = (date: Date) =>
  new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin" }).format(date);
const plusDays = (day: string, days: number) =>
  new Date(Date.parse(`${day}T12:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

Deno.test("payment.failed → nudges on days 0, 2, 4 → click → payment.succeeded = click_through", async () => {
  const sql = connectAsOwner();
  try {
    await enableEverything(sql);
    const companyId = uniqueCompany("flow");
    const membershipId = `mem_${companyId.slice(4)}`;
    const userId = `user_${companyId.slice(4)}`;
    await isolateQueue(sql, companyId);
    await sql`insert into public.companies (company_id, title) values (${companyId}, 'Flow Academy')`;
    await sql`insert into public.company_settings (company_id, experience_id, time_zone, send_hour)
              values (${companyId}, 'exp_flow', 'Europe/Berlin', 9)`;
    await sandbox.fixtures({
      memberships: [{ id: membershipId, user_id: userId, company_id: companyId, status: "past_due" }],
    });
    const recoveryUrl = `https://whop.com/billing/recover/pay_${companyId.slice(4)}`;

    let caseId = "";
    await withWebhookApp(async ({ send }) => {
      const failed = paymentEvent("payment.failed", {
        companyId,
        membershipId,
        userId,
        name: "Ada Lovelace",
        email: "ada@example.com",
        amount: 29.99,
        recoveryUrl,
        timestamp: new Date(Date.now() - 60_000).toISOString(),
      });
      assert.equal((await send(await signedRequest(failed))).status, 200);
    });
    const [opened] =
      await sql`select id, opened_at from public.recovery_cases where company_id = ${companyId}`;
    caseId = opened.id;

    // This case's calls: every Idempotency-Key the dispatcher uses names the job or the case.
    const ours = async () => {
      const jobs = await sql`select id from public.job_queue where case_id = ${caseId}`;
      const keys = new Set(jobs.map((job) => `job:${job.id}`));
      return (await sandbox.calls()).filter((call) =>
        keys.has(String(call.idempotency_key).replace(/:(channel|message)$/, "")) ||
        call.idempotency_key === `incentive:${caseId}`
      );
    };

    await withDispatchApp(async (dispatch) => {
      const day0 = await dispatch();
      assert.equal(day0.sent, 3, `day 0: ${JSON.stringify(day0)}`);
      const calls = await ours();
      const push = calls.find((call) => call.path === "/api/v1/notifications")!;
      assert.equal(push.status, 200);
      assert.equal(push.body!.experience_id, "exp_flow");
      assert.deepEqual(push.body!.user_ids, [userId]);
      assert.match(
        String(push.body!.content),
        /^Hi Ada, .* for Pro Membership\./,
        "the product named in the webhook",
      );
      const dm = calls.find((call) => call.path === "/api/v1/messages")!;
      assert.match(String(dm.body!.content), /Ada/);
      const incentive = calls.find((call) =>
        call.path === `/api/v1/memberships/${membershipId}/add_free_days`
      )!;
      assert.deepEqual(incentive.body, { free_days: 3 });
      assert.equal(incentive.idempotency_key, `incentive:${caseId}`);

      // The tracked link in the nudge records the click and sends the member to Whop's recovery page.
      const link = String(push.body!.content).match(/https?:\/\/[^\s)]+\/r\/[A-Za-z0-9._~-]+/)?.[0];
      assert.ok(link?.startsWith(`${stack.dashboardUrl}/r/`), `a tracked link in: ${push.body!.content}`);
      assert.ok(String(dm.body!.content).includes(`${stack.dashboardUrl}/r/`));
      const click = await fetch(link!, {
        redirect: "manual",
        headers: { "user-agent": "Mozilla/5.0 (iPhone) Safari" },
      });
      await click.body?.cancel();
      assert.equal(click.status, 302);
      assert.equal(click.headers.get("location"), recoveryUrl);

      // Day 2 and day 4 at 09:00 Berlin time, not before.
      const jobs =
        await sql`select step, scheduled_for from public.job_queue where case_id = ${caseId} and channel = 'push' order by step`;
      const openedDay = berlinDay(new Date(opened.opened_at));
      for (const [step, days] of [[1, 2], [2, 4]]) {
        const due = new Date(jobs[step].scheduled_for);
        assert.equal(berlinHour(due), 9, `step ${step} at the send hour`);
        assert.equal(berlinDay(due), plusDays(openedDay, days), `step ${step} on day ${days}`);
      }
      const day2 = new Date(jobs[1].scheduled_for);
      assert.equal(
        (await dispatch(new Date(day2.getTime() - 60_000))).sent,
        0,
        "nothing before the send hour",
      );
      assert.equal((await dispatch(day2)).sent, 2, "day 2: push and DM");

      // The member pays after clicking: recovered, click_through, with the amount.
      await withWebhookApp(async ({ send }) => {
        const succeeded = paymentEvent("payment.succeeded", {
          companyId,
          membershipId,
          userId,
          amount: 29.99,
        });
        assert.equal((await send(await signedRequest(succeeded))).status, 200);
      });
      const [closed] =
        await sql`select status, attribution, recovered_amount_minor, currency from public.recovery_cases where id = ${caseId}`;
      assert.deepEqual({ ...closed, recovered_amount_minor: Number(closed.recovered_amount_minor) }, {
        status: "recovered",
        attribution: "click_through",
        recovered_amount_minor: 2999,
        currency: "usd",
      });

      const day4 = new Date(jobs[2].scheduled_for);
      const after = await dispatch(day4);
      assert.equal(after.sent, 0, "nothing is sent for a closed case");
      const left =
        await sql`select status, count(*)::int as n from public.job_queue where case_id = ${caseId} group by status order by status`;
      assert.deepEqual(left.map((row) => `${row.status}:${row.n}`), ["cancelled:2", "sent:5"]);
    });
  } finally {
    await sql.end();
  }
});

Deno.test("a scheduled cancellation is nudged in its own words, not as a failed payment", async () => {
  const sql = connectAsOwner();
  try {
    await enableEverything(sql);
    const companyId = uniqueCompany("cancel");
    const membershipId = `mem_${companyId.slice(4)}`;
    const userId = `user_${companyId.slice(4)}`;
    await isolateQueue(sql, companyId);
    await sql`insert into public.companies (company_id, title) values (${companyId}, 'Cancel Academy')`;
    await sql`insert into public.company_settings (company_id, experience_id) values (${companyId}, 'exp_cancel')`;
    await sandbox.fixtures({
      memberships: [{ id: membershipId, user_id: userId, company_id: companyId, status: "active" }],
    });
    await withWebhookApp(async ({ send }) => {
      const scheduled = membershipEvent("membership.cancel_at_period_end_changed", {
        companyId,
        membershipId,
        userId,
        name: "Grace Hopper",
        cancelAtPeriodEnd: true,
      });
      assert.equal((await send(await signedRequest(scheduled))).status, 200);
    });
    const [opened] = await sql`select id, reason from public.recovery_cases where company_id = ${companyId}`;
    assert.equal(opened.reason, "cancel_scheduled");
    const jobs = await sql`select id from public.job_queue where case_id = ${opened.id}`;
    const keys = new Set(jobs.map((job) => `job:${job.id}`));

    await withDispatchApp(async (dispatch) => {
      assert.equal((await dispatch()).sent, 3, "push, DM and the incentive");
      const calls = (await sandbox.calls()).filter((call) =>
        keys.has(String(call.idempotency_key).replace(/:(channel|message)$/, ""))
      );
      const push = calls.find((call) => call.path === "/api/v1/notifications")!;
      assert.equal(push.body!.title, "Your membership is set to end");
      assert.match(
        String(push.body!.content),
        /^Hi Grace, Pro Membership is set to end when this billing period closes/,
      );
      const dm = calls.find((call) => call.path === "/api/v1/messages")!;
      assert.match(String(dm.body!.content), /is set to end when this billing period closes/);
      for (const call of [push, dm]) assert.doesNotMatch(String(call.body!.content), /payment/i);
    });
  } finally {
    await sql.end();
  }
});
