// Why a case exists, where a creator looks: webhooks (through the real function) store Whop's churn
// fields, the member's cancellation reason only as ciphertext; the case page shows a "Why" section
// (failure message, billing reason in words, Whop's retries, membership status, cancellation option,
// the member's reason decrypted and escaped, renewal period end), cases ended by a refund or dispute
// read "Lost — refunded" / "Lost — disputed" on the list and the page, and the CSV has the columns.
import assert from "node:assert/strict";
import { membershipEvent, paymentEvent, webhookEnvelope } from "../../whop-sandbox/payloads.ts";
import { formatDateTime } from "../../web/components/ui.tsx";
import { withCaseHarness } from "../support/case_fixtures.ts";
import { setFlags, signedRequest, withWebhookApp } from "../support/webhooks.ts";

const HOUR = 3600_000;
const minute = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString();
const NEXT_ATTEMPT = minute(Date.now() + 24 * HOUR);
const PERIOD_END = minute(Date.now() + 20 * 24 * HOUR);
const REASON = "Too pricey <script>alert(1)</script> for me right now";
const FAILURE = "Your card was declined: do_not_honor";

/** Cells of an RFC 4180 file (quoted fields, CRLF records). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"', i++);
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") (record.push(cell), cell = "");
    else if (ch === "\r" && text[i + 1] === "\n") {
      (record.push(cell), records.push(record), record = [], cell = "", i++);
    } else cell += ch;
  }
  return records;
}

Deno.test("case page and CSV: why a case exists, and cases lost to a refund or dispute say so", async () => {
  await withCaseHarness(async ({ company, sql }) => {
    const biz = await company("why");
    const c = biz.companyId;
    const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * HOUR).toISOString();
    await withWebhookApp(async ({ send }) => {
      await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
      const deliveries = [
        paymentEvent("payment.failed", {
          companyId: c,
          membershipId: "mem_fail",
          userId: "user_fail",
          billingReason: "subscription_cycle",
          failureMessage: FAILURE,
          paymentsFailed: 2,
          nextPaymentAttempt: NEXT_ATTEMPT,
          eventId: `msg_${c}_fail`,
          timestamp: at(3),
        }),
        membershipEvent("membership.cancel_at_period_end_changed", {
          companyId: c,
          membershipId: "mem_cancel",
          userId: "user_cancel",
          cancelAtPeriodEnd: true,
          cancelOption: "too_expensive",
          cancellationReason: REASON,
          renewalPeriodEnd: PERIOD_END,
          eventId: `msg_${c}_cancel`,
          timestamp: at(3),
        }),
        paymentEvent("payment.failed", {
          companyId: c,
          membershipId: "mem_refund",
          userId: "user_refund",
          eventId: `msg_${c}_refund_fail`,
          timestamp: at(3),
        }),
        webhookEnvelope(
          "refund.created",
          {
            id: "rfnd_why",
            amount: 29.99,
            currency: "usd",
            payment: paymentEvent("payment.succeeded", {
              companyId: c,
              membershipId: "mem_refund",
              userId: "user_refund",
            })
              .data,
          },
          c,
          { eventId: `msg_${c}_refund`, timestamp: at(2) },
        ),
      ];
      for (const body of deliveries) {
        const response = await send(await signedRequest(body));
        assert.equal(response.status, 200, JSON.stringify(response.body));
      }
    });

    // Stored: the clear fields as Whop gave them; the member's words only encrypted.
    const [failed] = await sql`select * from public.events where id = ${`msg_${c}_fail`}`;
    assert.deepEqual(
      [failed.billing_reason, failed.failure_message, failed.payments_failed, failed.membership_status],
      ["subscription_cycle", FAILURE, 2, "past_due"],
    );
    assert.equal(failed.next_payment_attempt.toISOString(), NEXT_ATTEMPT);
    const [cancel] = await sql`select * from public.events where id = ${`msg_${c}_cancel`}`;
    assert.deepEqual([cancel.cancel_option, cancel.membership_status], ["too_expensive", "active"]);
    assert.equal(cancel.renewal_period_end.toISOString(), PERIOD_END);
    assert.match(cancel.cancellation_reason_ciphertext, /^v1\./);
    assert.ok(
      !JSON.stringify(cancel).includes("Too pricey"),
      "the member's words are not stored in the clear",
    );

    const caseOf = async (membershipId: string) => {
      const [row] = await sql`select id, status, closed_by from public.recovery_cases
                              where company_id = ${c} and membership_id = ${membershipId}`;
      return row;
    };
    const page = async (membershipId: string) => {
      const response = await biz.request(`/dashboard/${c}/cases/${(await caseOf(membershipId)).id}`);
      assert.equal(response.status, 200);
      return await response.text();
    };

    const failHtml = await page("mem_fail");
    assert.match(failHtml, /<h2 id="case-why-heading">Why<\/h2>/);
    for (
      const shown of [
        FAILURE,
        "Renewal",
        "Whop&#39;s failed attempts|Whop's failed attempts",
        "Past due",
        formatDateTime(NEXT_ATTEMPT),
      ]
    ) {
      assert.match(failHtml, new RegExp(shown), shown);
    }

    const cancelHtml = await page("mem_cancel");
    assert.ok(cancelHtml.includes("Too expensive"), "the cancellation option in words");
    assert.ok(
      cancelHtml.includes("Too pricey &lt;script>alert(1)&lt;/script> for me right now"),
      "the reason, escaped",
    );
    assert.ok(!cancelHtml.includes("<script>alert(1)"), "never as markup");
    assert.ok(cancelHtml.includes(formatDateTime(PERIOD_END)), "the renewal period end");

    const refunded = await caseOf("mem_refund");
    assert.deepEqual([refunded.status, refunded.closed_by], ["lost", "refund"]);
    const refundHtml = await page("mem_refund");
    assert.ok(refundHtml.includes("Lost — refunded"), "the page says why it was lost");
    assert.ok(refundHtml.includes("The member was refunded"));
    const list = await (await biz.request(`/dashboard/${c}/cases`)).text();
    assert.ok(list.includes("Lost — refunded"), "so does the list");

    const csvResponse = await biz.request(`/dashboard/${c}/export.csv`, { headers: { accept: "text/csv" } });
    assert.equal(csvResponse.status, 200);
    const [header, ...rows] = parseCsv(await csvResponse.text());
    const column = (name: string) => {
      const index = header.indexOf(name);
      assert.ok(index >= 0, `the CSV has ${name}`);
      return index;
    };
    const byMembership = new Map(rows.map((row) => [row[column("Membership ID")], row]));
    assert.equal(byMembership.get("mem_fail")![column("Failure message")], FAILURE);
    assert.equal(byMembership.get("mem_fail")![column("Billing reason")], "Renewal");
    assert.equal(byMembership.get("mem_fail")![column("Member's own words")], "");
    assert.equal(byMembership.get("mem_cancel")![column("Cancellation reason")], "Too expensive");
    assert.equal(byMembership.get("mem_cancel")![column("Member's own words")], REASON, "decrypted");
    assert.equal(byMembership.get("mem_refund")![column("Status")], "Lost — refunded");
    assert.equal(byMembership.get("mem_cancel")![column("Status")], "Open");
  });
});

Deno.test("case page: a case whose events said nothing more says so instead of showing blanks", async () => {
  await withCaseHarness(async ({ company }) => {
    const biz = await company("whyempty");
    const id = await biz.addCase({ status: "lost" });
    const html = await (await biz.request(`/dashboard/${biz.companyId}/cases/${id}`)).text();
    assert.ok(
      html.includes("Whop&#39;s events for this case gave no further details") ||
        html.includes("Whop's events for this case gave no further details"),
    );
    assert.ok(!html.includes("Lost — "), "a case lost without a refund or dispute is just lost");
  });
});
