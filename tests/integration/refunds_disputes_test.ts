// What an event means, on the real database through the real function (signature, normalisation,
// ingest, case engine): a failed first checkout is stored and opens nothing; a refund or dispute
// (v1, or v5 with the company only in data.payment.company_id) ends an open case as lost with its
// reason and cancels its pending nudges, takes a recovery inside the attribution window back, and is
// never won back. Table-driven; each scenario is also delivered in every other order, which must end
// in the same state (the engine replays event time, not arrival).
import assert from "node:assert/strict";
import type { BillingReason } from "../../whop-sandbox/whop_objects.ts";
import { legacyEvent, membershipEvent, paymentEvent, webhookEnvelope } from "../../whop-sandbox/payloads.ts";
import type { connectAsOwner } from "../support/stack.ts";
import { setFlags, signedRequest, uniqueCompany, withWebhookApp } from "../support/webhooks.ts";

type Sql = ReturnType<typeof connectAsOwner>;
type Delivery = { body: unknown; format: "v1" | "legacy" };

const HOUR = 3600_000;
const base = Date.now() - 5 * 24 * HOUR;
const at = (hours: number) => new Date(base + hours * HOUR).toISOString();
const unix = (hours: number) => Math.floor((base + hours * HOUR) / 1000);
const MEMBERSHIP = "mem_rd";
const party = (c: string) => ({ companyId: c, membershipId: MEMBERSHIP, userId: "user_rd" });

const fail =
  (billingReason: BillingReason | null = "subscription_cycle", type = "payment.failed") =>
  (c: string, id: string, hours: number): Delivery => ({
    body: paymentEvent(type, {
      ...party(c),
      billingReason,
      amount: 29.99,
      eventId: id,
      timestamp: at(hours),
    }),
    format: "v1",
  });
const succeed = (c: string, id: string, hours: number): Delivery => ({
  body: paymentEvent("payment.succeeded", { ...party(c), amount: 29.99, eventId: id, timestamp: at(hours) }),
  format: "v1",
});
const deactivate = (c: string, id: string, hours: number): Delivery => ({
  body: membershipEvent("membership.deactivated", { ...party(c), eventId: id, timestamp: at(hours) }),
  format: "v1",
});
/** A v1 refund: Whop's Refund nests the payment, whose membership it is about. */
const refund = (c: string, id: string, hours: number): Delivery => ({
  body: webhookEnvelope(
    "refund.created",
    {
      id: `rfnd_${id}`,
      amount: 29.99,
      currency: "usd",
      status: "succeeded",
      payment: paymentEvent("payment.succeeded", party(c)).data,
    },
    c,
    { eventId: id, timestamp: at(hours) },
  ),
  format: "v1",
});
/** A v5 dispute: the company only in data.payment.company_id (WHOP.md 1.2), its time in created_at. */
const disputeV5 = (c: string, id: string, hours: number): Delivery => ({
  body: legacyEvent("dispute.created", { ...party(c), id: `dspt_${id}`, createdAt: unix(hours) }),
  format: "legacy",
});

interface CaseState {
  status: string;
  reason: string;
  closed_by: string | null;
  opened_at: string;
  closed_at: string | null;
  attribution: string | null;
  failure_count: number;
  recovered_amount_minor: number | null;
  /** Places in the scenario of the events that opened and closed the case. */
  opening_event: number;
  closing_event: number | null;
  pending_jobs: number;
}

interface Scenario {
  name: string;
  events: ((c: string, id: string, hours: number) => Delivery)[];
  hours: number[];
  /** The cases after in-order delivery, oldest first. */
  expected: Partial<CaseState>[];
  /** Whether nudges that were pending when the case closed are now cancelled (in-order delivery). */
  cancelsNudges?: boolean;
}

const scenarios: Scenario[] = [
  {
    name: "a failed first checkout (subscription_create) is stored and opens no case",
    events: [fail("subscription_create")],
    hours: [0],
    expected: [],
  },
  {
    name: "a first checkout needing action (subscription_create) opens no case either",
    events: [fail("subscription_create", "payment.requires_action")],
    hours: [0],
    expected: [],
  },
  {
    name: "a failed renewal (subscription_cycle) opens a case",
    events: [fail("subscription_cycle")],
    hours: [0],
    expected: [{ status: "open", reason: "payment_failed", closed_by: null }],
  },
  {
    name: "other billing reasons (subscription_update, manual, none) open a case as before",
    events: [fail("subscription_update"), fail("manual"), fail(null)],
    hours: [0, 1, 2],
    expected: [{ status: "open", reason: "payment_failed", failure_count: 3 }],
  },
  {
    name: "a failed first checkout does not merge into an open case",
    events: [fail("subscription_cycle"), fail("subscription_create")],
    hours: [0, 12],
    expected: [{ status: "open", failure_count: 1, opening_event: 0 }],
  },
  {
    name: "open case + refund: lost, closed by the refund, nudges cancelled",
    events: [fail(), refund],
    hours: [0, 6],
    expected: [{
      status: "lost",
      reason: "payment_failed",
      closed_by: "refund",
      closed_at: at(6),
      closing_event: 1,
      pending_jobs: 0,
    }],
    cancelsNudges: true,
  },
  {
    name: "open case + v5 dispute (company only in data.payment.company_id): lost, closed by the dispute",
    events: [fail(), disputeV5],
    hours: [0, 6],
    expected: [{ status: "lost", closed_by: "dispute", closing_event: 1, pending_jobs: 0 }],
    cancelsNudges: true,
  },
  {
    name: "recovered case + refund inside the window: no longer recovered",
    events: [fail(), succeed, refund],
    hours: [0, 24, 48],
    expected: [{
      status: "lost",
      closed_by: "refund",
      closed_at: at(48),
      closing_event: 2,
      attribution: null,
      recovered_amount_minor: null,
    }],
  },
  {
    name: "recovered case + refund after the window: still recovered",
    events: [fail(), succeed, refund],
    hours: [-20 * 24, -20 * 24 + 2, 24],
    expected: [{ status: "recovered", closed_by: null, closing_event: 1, recovered_amount_minor: 2999 }],
  },
  {
    name: "a success after a refund wins nothing back",
    events: [fail(), refund, succeed],
    hours: [0, 6, 24],
    expected: [{ status: "lost", closed_by: "refund", closing_event: 1 }],
  },
  {
    name: "a lost case disputed inside its window is never won back",
    events: [fail(), deactivate, disputeV5, succeed],
    hours: [0, 24, 30, 48],
    expected: [{ status: "lost", closed_by: "dispute", closing_event: 1 }],
  },
  {
    name: "the deactivation that follows a refund opens no case",
    events: [fail(), refund, deactivate],
    hours: [0, 6, 7],
    expected: [{ status: "lost", closed_by: "refund", closing_event: 1 }],
  },
  {
    name: "a refund with no case opens nothing, nor does the deactivation after it",
    events: [refund, deactivate],
    hours: [0, 1],
    expected: [],
  },
  {
    name: "after a refund, a new failed renewal starts a fresh case",
    events: [fail(), refund, fail()],
    hours: [0, 6, 48],
    expected: [
      { status: "lost", closed_by: "refund", opening_event: 0 },
      { status: "open", closed_by: null, opening_event: 2, failure_count: 1 },
    ],
  },
];

async function snapshot(sql: Sql, companyId: string, eventIds: string[]): Promise<CaseState[]> {
  const rows = await sql`
    select rc.*, (select count(*)::int from public.job_queue j where j.case_id = rc.id and j.status = 'pending')
                 as pending_jobs
    from public.recovery_cases rc where rc.company_id = ${companyId} order by rc.opened_at, rc.id`;
  return rows.map((row) => ({
    status: row.status,
    reason: row.reason,
    closed_by: row.closed_by,
    opened_at: new Date(row.opened_at).toISOString(),
    closed_at: row.closed_at && new Date(row.closed_at).toISOString(),
    attribution: row.attribution,
    failure_count: row.failure_count,
    recovered_amount_minor: row.recovered_amount_minor === null ? null : Number(row.recovered_amount_minor),
    opening_event: eventIds.indexOf(row.opening_event_id),
    closing_event: row.closing_event_id === null ? null : eventIds.indexOf(row.closing_event_id),
    pending_jobs: row.pending_jobs,
  }));
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest])
  );
}

for (const scenario of scenarios) {
  Deno.test(`refunds, disputes, first checkouts: ${scenario.name}`, async () => {
    await withWebhookApp(async ({ send, sql }) => {
      await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });

      async function run(order: number[]) {
        const companyId = uniqueCompany("rd");
        const deliveries = scenario.events.map((build, i) =>
          build(companyId, `msg_${companyId}_${i}`, scenario.hours[i])
        );
        const ids: string[] = [];
        for (const i of order) {
          const response = await send(
            await signedRequest(deliveries[i].body, { format: deliveries[i].format }),
          );
          assert.equal(response.status, 200, JSON.stringify(response.body));
          ids[i] = response.body.id as string;
        }
        return { companyId, ids, state: await snapshot(sql, companyId, ids) };
      }

      const inOrder = await run(scenario.events.map((_, i) => i));
      const stored =
        await sql`select id, membership_id, processed_at from public.events where company_id = ${inOrder.companyId}`;
      assert.equal(stored.length, scenario.events.length, "every event is stored");
      for (const event of stored) {
        assert.equal(
          event.membership_id,
          MEMBERSHIP,
          "each event is about the membership (refunds through their payment)",
        );
        assert.ok(event.processed_at, "and processed");
      }
      assert.equal(inOrder.state.length, scenario.expected.length, `cases: ${JSON.stringify(inOrder.state)}`);
      scenario.expected.forEach((expected, i) => {
        for (const [key, value] of Object.entries(expected)) {
          assert.deepEqual(inOrder.state[i][key as keyof CaseState], value, `case ${i}.${key}`);
        }
      });
      if (scenario.expected.length === 0) {
        const [{ jobs }] =
          await sql`select count(*)::int as jobs from public.job_queue where company_id = ${inOrder.companyId}`;
        assert.equal(jobs, 0, "no nudges at all");
      }
      for (const open of inOrder.state.filter((state) => state.status === "open")) {
        assert.ok(open.pending_jobs > 0, "an open case has its nudges scheduled");
      }
      if (scenario.cancelsNudges) {
        const [{ cancelled }] = await sql`
          select count(*)::int as cancelled from public.job_queue
          where company_id = ${inOrder.companyId} and status = 'cancelled'`;
        assert.ok(cancelled > 0, "the nudges it had pending are cancelled");
      }

      for (const order of permutations(scenario.events.map((_, i) => i)).slice(1)) {
        const { state } = await run(order);
        assert.deepEqual(state, inOrder.state, `delivery order ${order.join(",")}`);
      }
    });
  });
}

Deno.test("a refund delivered before the failure it follows ends in the in-order state, and cancels nothing twice", async () => {
  await withWebhookApp(async ({ send, sql }) => {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
    const companyId = uniqueCompany("rdooo");
    const failure = fail()(companyId, `msg_${companyId}_f`, 0);
    const refunded = refund(companyId, `msg_${companyId}_r`, 6);
    assert.equal((await send(await signedRequest(refunded.body))).status, 200);
    assert.deepEqual(await snapshot(sql, companyId, []), [], "a refund alone opens nothing");
    assert.equal((await send(await signedRequest(failure.body))).status, 200);
    const [state] = await snapshot(sql, companyId, [`msg_${companyId}_f`, `msg_${companyId}_r`]);
    assert.deepEqual(
      {
        status: state.status,
        closed_by: state.closed_by,
        opening: state.opening_event,
        closing: state.closing_event,
      },
      { status: "lost", closed_by: "refund", opening: 0, closing: 1 },
    );
    const [{ jobs }] =
      await sql`select count(*)::int as jobs from public.job_queue where company_id = ${companyId}`;
    assert.equal(jobs, 0, "a case that was never open in event time never had nudges");
  });
});
