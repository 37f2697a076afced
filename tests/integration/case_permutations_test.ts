// Event order and duplication do not matter: for each scenario of real Whop payloads (v1 and
// legacy v5), every permutation of delivery order, and random duplications, end in the same cases
// and pending nudges as in-order delivery, which itself ends in the expected state.
// Each delivery goes through the real function (signature, normalisation, encryption) into the
// real database; each run uses its own company, with the same membership ids.
import assert from "node:assert/strict";
import { legacyEvent, membershipEvent, paymentEvent } from "../../whop-sandbox/payloads.ts";
import type { connectAsOwner } from "../support/stack.ts";
import { setFlags, signedRequest, uniqueCompany, withWebhookApp } from "../support/webhooks.ts";

type Delivery = { body: unknown; format: "v1" | "legacy" };
type Sql = ReturnType<typeof connectAsOwner>;

const HOUR = 3600_000;
const base = Date.now() - 5 * 24 * HOUR;
const at = (hours: number) => new Date(base + hours * HOUR).toISOString();
const unix = (hours: number) => Math.floor((base + hours * HOUR) / 1000);

interface Scenario {
  name: string;
  events: (companyId: string, tag: string) => Delivery[];
  /** Expected cases after in-order delivery, oldest first. */
  expected: Partial<CaseSnapshot>[];
}

const v1 = (body: unknown): Delivery => ({ body, format: "v1" });
const fail = (c: string, id: string, hours: number, amount = 29.99, membershipId = "mem_perm") =>
  v1(
    paymentEvent("payment.failed", {
      companyId: c,
      membershipId,
      userId: "user_perm",
      amount,
      eventId: id,
      timestamp: at(hours),
    }),
  );
const succeed = (c: string, id: string, hours: number, amount = 29.99) =>
  v1(
    paymentEvent("payment.succeeded", {
      companyId: c,
      membershipId: "mem_perm",
      userId: "user_perm",
      amount,
      eventId: id,
      timestamp: at(hours),
    }),
  );
const membership =
  (type: "membership.activated" | "membership.deactivated" | "membership.cancel_at_period_end_changed") =>
  (c: string, id: string, hours: number, cancelAtPeriodEnd = false) =>
    v1(
      membershipEvent(type, {
        companyId: c,
        membershipId: "mem_perm",
        userId: "user_perm",
        cancelAtPeriodEnd,
        eventId: id,
        timestamp: at(hours),
      }),
    );

const scenarios: Scenario[] = [
  {
    name: "two failures then a success",
    events: (
      c,
      t,
    ) => [fail(c, `${t}_1`, 0, 29.99), fail(c, `${t}_2`, 24, 39.99), succeed(c, `${t}_3`, 48, 39.99)],
    expected: [{
      status: "recovered",
      reason: "payment_failed",
      failure_count: 2,
      amount_at_risk_minor: 3999,
      recovered_amount_minor: 3999,
      attribution: "organic",
    }],
  },
  {
    name: "failure, deactivation, win-back",
    events: (
      c,
      t,
    ) => [
      fail(c, `${t}_1`, 0),
      membership("membership.deactivated")(c, `${t}_2`, 24),
      membership("membership.activated")(c, `${t}_3`, 48),
    ],
    expected: [{ status: "recovered", reason: "payment_failed", closing_event: 2 }],
  },
  {
    name: "failure then deactivation",
    events: (c, t) => [fail(c, `${t}_1`, 0), membership("membership.deactivated")(c, `${t}_2`, 24)],
    expected: [{ status: "lost", closing_event: 1 }],
  },
  {
    name: "cancellation scheduled, a failed payment, cancellation undone",
    events: (c, t) => [
      membership("membership.cancel_at_period_end_changed")(c, `${t}_1`, 0, true),
      fail(c, `${t}_2`, 12, 19.99),
      membership("membership.cancel_at_period_end_changed")(c, `${t}_3`, 24, false),
    ],
    expected: [{
      status: "recovered",
      reason: "cancel_scheduled",
      failure_count: 2,
      recovered_amount_minor: 1999,
    }],
  },
  {
    name: "recovered, then failing again",
    events: (
      c,
      t,
    ) => [
      fail(c, `${t}_1`, 0),
      succeed(c, `${t}_2`, 24),
      fail(c, `${t}_3`, 48, 9.99),
      fail(c, `${t}_4`, 60, 12.5),
    ],
    expected: [
      { status: "recovered", opening_event: 0, closing_event: 1 },
      { status: "open", opening_event: 2, failure_count: 2, amount_at_risk_minor: 1250, pending_jobs: 7 },
    ],
  },
  {
    name: "a success after the window, then a deactivation",
    events: (
      c,
      t,
    ) => [
      fail(c, `${t}_1`, -20 * 24),
      succeed(c, `${t}_2`, 24),
      membership("membership.deactivated")(c, `${t}_3`, 96),
    ],
    expected: [{ status: "expired" }, { status: "open", reason: "membership_deactivated", opening_event: 2 }],
  },
  {
    name: "legacy v5 and v1 mixed",
    events: (c, t) => [
      {
        body: legacyEvent("app_payment.failed", {
          companyId: c,
          membershipId: "mem_perm",
          userId: "user_perm",
          amount: 49,
          createdAt: unix(0),
          id: `pay_${t}`,
          extra: { last_payment_attempt: unix(0), next_payment_attempt: null },
        }),
        format: "legacy",
      },
      v1(
        paymentEvent("payment.requires_action", {
          companyId: c,
          membershipId: "mem_perm",
          userId: "user_perm",
          amount: 49,
          eventId: `${t}_2`,
          timestamp: at(12),
        }),
      ),
      {
        body: legacyEvent("membership.went_valid", {
          companyId: c,
          membershipId: "mem_perm",
          userId: "user_perm",
          createdAt: unix(-24 * 30),
          id: "mem_perm",
          extra: { updated_at: unix(24) },
        }),
        format: "legacy",
      },
    ],
    expected: [{
      status: "recovered",
      reason: "payment_failed",
      failure_count: 2,
      recovered_amount_minor: 4900,
    }],
  },
];

interface CaseSnapshot {
  status: string;
  reason: string;
  opened_at: string;
  closed_at: string | null;
  attribution: string | null;
  failure_count: number;
  amount_at_risk_minor: number | null;
  recovered_amount_minor: number | null;
  currency: string | null;
  opening_event: number;
  closing_event: number | null;
  pending_jobs: number;
  jobs: string[];
}

async function snapshot(sql: Sql, companyId: string, eventIds: string[]): Promise<CaseSnapshot[]> {
  const rows = await sql`
    select rc.*, coalesce((select array_agg(j.channel || ':' || j.step || ':' || j.status || ':' || j.scheduled_for::text
                                            order by j.channel, j.step)
                           from public.job_queue j where j.case_id = rc.id and j.status <> 'cancelled'), '{}') as jobs
    from public.recovery_cases rc where rc.company_id = ${companyId} order by rc.opened_at`;
  return rows.map((row) => ({
    status: row.status,
    reason: row.reason,
    opened_at: new Date(row.opened_at).toISOString(),
    closed_at: row.closed_at && new Date(row.closed_at).toISOString(),
    attribution: row.attribution,
    failure_count: row.failure_count,
    amount_at_risk_minor: row.amount_at_risk_minor === null ? null : Number(row.amount_at_risk_minor),
    recovered_amount_minor: row.recovered_amount_minor === null ? null : Number(row.recovered_amount_minor),
    currency: row.currency,
    opening_event: eventIds.indexOf(row.opening_event_id),
    closing_event: row.closing_event_id === null ? null : eventIds.indexOf(row.closing_event_id),
    pending_jobs: (row.jobs as string[]).filter((job) => job.includes(":pending:")).length,
    jobs: row.jobs,
  }));
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest])
  );
}

/** Each delivery 1-3 times, shuffled (seeded, so a failure can be reproduced). */
function duplicated<T>(items: T[], seed: number): T[] {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const copies = items.flatMap((item) => Array.from({ length: 1 + Math.floor(random() * 3) }, () => item));
  for (let i = copies.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copies[i], copies[j]] = [copies[j], copies[i]];
  }
  return copies;
}

for (const scenario of scenarios) {
  Deno.test(`same final state in every order and with duplicates: ${scenario.name}`, async () => {
    await withWebhookApp(async ({ send, sql }) => {
      await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });

      async function run(order: (deliveries: Delivery[]) => Delivery[]) {
        const companyId = uniqueCompany("perm");
        const deliveries = scenario.events(companyId, `msg_${companyId}`);
        const idOf = new Map<Delivery, string>();
        for (const delivery of order(deliveries)) {
          const response = await send(await signedRequest(delivery.body, { format: delivery.format }));
          assert.equal(response.status, 200, JSON.stringify(response.body));
          idOf.set(delivery, response.body.id as string);
        }
        // Event ids in scenario order, so snapshots name events by their place in the scenario.
        return await snapshot(sql, companyId, deliveries.map((delivery) => idOf.get(delivery)!));
      }

      const inOrder = await run((deliveries) => deliveries);
      assert.equal(
        inOrder.length,
        scenario.expected.length,
        `cases after in-order delivery: ${JSON.stringify(inOrder)}`,
      );
      scenario.expected.forEach((expected, i) => {
        for (const [key, value] of Object.entries(expected)) {
          assert.deepEqual(
            inOrder[i][key as keyof CaseSnapshot],
            value,
            `case ${i}.${key} after in-order delivery`,
          );
        }
      });

      const orders = permutations([...scenario.events("biz_x", "x").keys()]);
      for (const order of orders.slice(1)) {
        const state = await run((deliveries) => order.map((i) => deliveries[i]));
        assert.deepEqual(state, inOrder, `delivery order ${order.join(",")}`);
      }
      for (const seed of [1, 2, 3]) {
        const state = await run((deliveries) => duplicated(deliveries, seed));
        assert.deepEqual(state, inOrder, `duplicated deliveries, seed ${seed}`);
      }
    });
  });
}
