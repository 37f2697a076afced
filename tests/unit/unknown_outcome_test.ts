// The checks made before a call whose earlier outcome was unknown (unknown_outcome.ts), against a
// sandbox that ignores Idempotency-Key and a ledger kept in memory: free days are compared with the
// membership read before the first grant, a DM is looked for in the channel, a push is resent once;
// nothing is called without the lease; an outcome nobody could check yet is never dead for want of
// attempts: the attempts past the limit only check.
import assert from "node:assert/strict";
import { createWhopClient, type WhopCallOutcome } from "../../supabase/functions/_shared/whop/client.ts";
import {
  daysAdded,
  decideAttempt,
  type FreeDaysObservation,
  type JobLedger,
  type Observed,
  onceOnlyClient,
  outcomeUnresolved,
  parseTime,
  settledDecision,
} from "../../supabase/functions/dispatch-notifications/unknown_outcome.ts";
import type { RetryPolicy } from "../../supabase/functions/dispatch-notifications/retry_policy.ts";
import { serveSandbox } from "../support/sandbox_server.ts";

const API_KEY = "sk_test_unknownOutcome_0123456789";
const DAY_MS = 86_400_000;
const POLICY: RetryPolicy = { maxAttempts: 3, baseSeconds: 10, maxBackoffSeconds: 3600 };

interface Harness {
  /** The guarded client for attempt `attempts` of job 1, with `unknownAttempts` behind it. */
  client(attempts: number, unknownAttempts?: number): ReturnType<typeof onceOnlyClient>;
  ledger: { observed: Observed; leaseHeld: boolean };
  fault(fault: Record<string, unknown>): Promise<void>;
  calls(method: string, path: string): Promise<number>;
  periodEnd(): Promise<number>;
  messages(): number;
}

async function withHarness(body: (h: Harness) => Promise<void>) {
  const { sandbox, origin, control, close } = await serveSandbox({
    apiKey: API_KEY,
    ignoreIdempotencyKey: true,
  });
  try {
    await control("POST", "/fixtures", {
      memberships: [{ id: "mem_1", user_id: "user_1", company_id: "biz_1", status: "past_due" }],
      experiences: [{ id: "exp_1", company_id: "biz_1" }],
    });
    const whop = createWhopClient({ baseUrl: `${origin}/api/v1`, apiKey: API_KEY, timeoutMs: 200 });
    const state = { observed: {} as Observed, leaseHeld: true };
    let unknown = 0;
    const ledger: JobLedger = {
      history: () => Promise.resolve({ observed: structuredClone(state.observed), unknownAttempts: unknown }),
      record: (_id, observed) => {
        if (!state.leaseHeld) return Promise.resolve(false);
        state.observed = structuredClone(observed);
        return Promise.resolve(true);
      },
      hold: () => Promise.resolve(state.leaseHeld),
    };
    await body({
      client: (attempts, unknownAttempts = 0) => {
        unknown = unknownAttempts;
        return onceOnlyClient(whop, { job_id: 1, attempts }, ledger, { maxAttempts: POLICY.maxAttempts });
      },
      ledger: state,
      fault: async (fault) => void await control("POST", "/faults", fault),
      calls: async (method, path) =>
        (await control<{ calls: unknown[] }>(
          "GET",
          `/calls?method=${method}&path=${encodeURIComponent(path)}`,
        ))
          .calls.length,
      periodEnd: async () =>
        Date.parse(
          (await control<{ memberships: { renewal_period_end: string }[] }>("GET", "/state")).memberships[0]
            .renewal_period_end,
        ),
      messages: () => sandbox.state.messages.length,
    });
  } finally {
    await close();
  }
}

const ADD = "/api/v1/memberships/mem_1/add_free_days";
const settled = (outcome: WhopCallOutcome) => settledDecision(outcome)?.outcome ?? null;

Deno.test("free days: noted before the first grant; a timed-out grant that took effect is not repeated", async () => {
  await withHarness(async (h) => {
    const start = await h.periodEnd();
    await h.fault({ method: "POST", path: ADD, after_effect: true, latency_ms: 500, times: 1 });
    const first = await h.client(1).addFreeDays({ membershipId: "mem_1", days: 3 }, "incentive:c1");
    assert.equal(first.ok === false && first.kind, "transient");
    assert.equal(h.ledger.observed.free_days?.renewal_period_end, new Date(start).toISOString());
    assert.equal(h.ledger.observed.free_days?.days, 3);

    const retry = await h.client(2, 1).addFreeDays({ membershipId: "mem_1", days: 3 }, "incentive:c1");
    assert.equal(retry.ok, true, JSON.stringify(retry));
    assert.equal(h.ledger.observed.confirmed?.by, "membership");
    assert.equal((await h.periodEnd() - start) / DAY_MS, 3);
    // The timed-out call is logged once its slow answer is done: it stays the only one.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await h.calls("POST", ADD), 1, "no second call");
  });
});

Deno.test("free days: a grant that did not take effect is made again; a failed read calls nothing", async () => {
  await withHarness(async (h) => {
    const start = await h.periodEnd();
    await h.fault({ method: "POST", path: ADD, status: 503, times: 1 });
    assert.equal((await h.client(1).addFreeDays({ membershipId: "mem_1", days: 3 }, "k")).ok, false);

    await h.fault({ method: "GET", path: "/api/v1/memberships/mem_1", status: 502, times: 1 });
    const held = await h.client(2, 1).addFreeDays({ membershipId: "mem_1", days: 3 }, "k");
    assert.equal(held.ok === false && held.kind === "transient" && held.notSent, true);
    assert.equal(await h.calls("POST", ADD), 1);

    assert.equal((await h.client(3, 2).addFreeDays({ membershipId: "mem_1", days: 3 }, "k")).ok, true);
    assert.equal(await h.calls("POST", ADD), 2);
    assert.equal((await h.periodEnd() - start) / DAY_MS, 3);

    // A membership Whop no longer knows is refused as such (no grant is tried).
    const gone = await h.client(1).addFreeDays({ membershipId: "mem_gone", days: 3 }, "k2");
    assert.equal(gone.ok === false && gone.kind === "permanent" && gone.status, 404);
  });
});

Deno.test("free days: nothing to compare after an unknown outcome ends the job dead, never a second grant", async () => {
  await withHarness(async (h) => {
    const blank: FreeDaysObservation = {
      read_at: new Date().toISOString(),
      days: 3,
      renewal_period_end: "2030-01-01T00:00:00.000Z",
      expires_at: null,
      status: "past_due",
    };
    // Whop's answer no longer shows a period end: cannot be checked.
    h.ledger.observed = { free_days: blank };
    await h.fault({
      method: "GET",
      path: "/api/v1/memberships/mem_1",
      status: 200,
      body: { id: "mem_1", status: "past_due", renewal_period_end: null },
      times: 2,
    });
    const outcome = await h.client(2, 1).addFreeDays({ membershipId: "mem_1", days: 3 }, "k");
    assert.equal(settled(outcome), "dead");
    assert.equal(await h.calls("POST", ADD), 0);
    // With every earlier attempt refused (a 429), there is nothing to fear: it is granted.
    assert.equal((await h.client(2, 0).addFreeDays({ membershipId: "mem_1", days: 3 }, "k")).ok, true);
    assert.equal(await h.calls("POST", ADD), 1);
  });
});

Deno.test("the lease lost before a call means no call, for every channel, and nothing to record", async () => {
  await withHarness(async (h) => {
    h.ledger.leaseHeld = false;
    const grant = await h.client(1).addFreeDays({ membershipId: "mem_1", days: 3 }, "k");
    assert.equal(grant.ok === false && grant.kind === "transient" && grant.notSent, true);
    assert.equal(settled(grant), "lease_lost");
    const push = { experienceId: "exp_1", userIds: ["user_1"], title: "t", content: "c" };
    assert.equal(settled(await h.client(1).sendPushNotification(push, "job:1")), "lease_lost");
    const dm = { userId: "user_1", companyId: "biz_1", content: "Hi" };
    assert.equal(settled(await h.client(1).sendDirectMessage(dm, "job:1")), "lease_lost");
    assert.equal(await h.calls("POST", ADD), 0);
    assert.equal(await h.calls("POST", "/api/v1/notifications"), 0);
    assert.equal(await h.calls("POST", "/api/v1/messages"), 0);
  });
});

Deno.test("free days: a timed-out grant that landed, then checks answered 429 and 503: never dead, sent once checked", async () => {
  await withHarness(async (h) => {
    const start = await h.periodEnd();
    const at = new Date("2030-01-01T00:00:00Z");
    const grant = (attempts: number, unknown: number) =>
      h.client(attempts, unknown).addFreeDays({ membershipId: "mem_1", days: 3 }, "incentive:c1");
    await h.fault({ method: "POST", path: ADD, after_effect: true, latency_ms: 500, times: 1 });
    const first = await grant(1, 0);
    assert.equal(outcomeUnresolved(first), true, "a timeout after a grant call is unresolved");
    assert.equal(decideAttempt(first, 1, POLICY, at).outcome, "retry");

    await h.fault({ method: "GET", path: "/api/v1/memberships/mem_1", status: 429, times: 1 });
    const limited = await grant(2, 1);
    assert.equal(outcomeUnresolved(limited), true, "a check refused by a 429 leaves it unresolved");
    assert.equal(decideAttempt(limited, 2, POLICY, at).outcome, "retry");

    await h.fault({ method: "GET", path: "/api/v1/memberships/mem_1", status: 503, times: 1 });
    const failed = await grant(3, 1);
    const last = decideAttempt(failed, 3, POLICY, at);
    assert.equal(last.outcome, "retry", "the last attempt allowed, still unresolved: not dead");

    const checked = await grant(4, 1);
    assert.equal(checked.ok, true);
    assert.equal(decideAttempt(checked, 4, POLICY, at).outcome, "sent");
    assert.equal((await h.periodEnd() - start) / DAY_MS, 3, "the days, once");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await h.calls("POST", ADD), 1, "past the attempts allowed, only checked");
  });
});

Deno.test("past the attempts allowed an attempt only checks: no effect shown ends it dead without a call", async () => {
  await withHarness(async (h) => {
    await h.fault({ method: "POST", path: ADD, status: 503, times: 1 });
    assert.equal((await h.client(3).addFreeDays({ membershipId: "mem_1", days: 3 }, "k")).ok, false);
    const checked = await h.client(4, 1).addFreeDays({ membershipId: "mem_1", days: 3 }, "k");
    const decision = settledDecision(checked);
    assert.equal(decision?.outcome, "dead");
    assert.match(decision?.outcome === "dead" ? decision.error : "", /none of them took effect/);
    assert.equal(await h.calls("POST", ADD), 1, "not granted again after the limit");

    const dm = { userId: "user_1", companyId: "biz_1", content: "Hi" };
    await h.fault({ method: "POST", path: "/api/v1/messages", status: 503, times: 1 });
    assert.equal((await h.client(3).sendDirectMessage(dm, "job:1")).ok, false);
    assert.equal(settled(await h.client(4, 1).sendDirectMessage(dm, "job:1")), "dead");
    assert.equal(await h.calls("POST", "/api/v1/messages"), 1);
    assert.equal(h.messages(), 0);
  });
});

Deno.test("decideAttempt: an unresolved outcome gets as many checks again, then dead saying it may have been delivered", async () => {
  await withHarness(async (h) => {
    const at = new Date("2030-01-01T00:00:00Z");
    const dm = { userId: "user_1", companyId: "biz_1", content: "Hi" };
    await h.fault({ method: "POST", path: "/api/v1/messages", status: 503, times: 1 });
    assert.equal((await h.client(1).sendDirectMessage(dm, "job:1")).ok, false);
    await h.fault({ method: "GET", path: "/api/v1/messages", status: 500, times: 1 });
    const unread = await h.client(6, 5).sendDirectMessage(dm, "job:1");
    assert.equal(outcomeUnresolved(unread), true);
    const decision = decideAttempt(unread, 6, POLICY, at);
    assert.equal(decision.outcome, "dead");
    assert.match(decision.outcome === "dead" ? decision.error : "", /may have been delivered/);
    // A push cannot be checked: its limit is the retry policy's (and the resend-once rule).
    await h.fault({ path: "/api/v1/notifications", status: 503, times: 1 });
    const push = { experienceId: "exp_1", userIds: ["user_1"], title: "t", content: "c" };
    const pushed = await h.client(3).sendPushNotification(push, "job:2");
    assert.equal(outcomeUnresolved(pushed), false);
    assert.equal(decideAttempt(pushed, 3, POLICY, at).outcome, "dead");
  });
});

Deno.test("DM: a send whose answer was lost is found in the channel and not sent again", async () => {
  await withHarness(async (h) => {
    const dm = { userId: "user_1", companyId: "biz_1", content: "Hi **Ada**, your link: https://x/r/1" };
    await h.fault({
      method: "POST",
      path: "/api/v1/messages",
      after_effect: true,
      latency_ms: 500,
      times: 1,
    });
    assert.equal((await h.client(1).sendDirectMessage(dm, "job:1")).ok, false);
    assert.equal(h.ledger.observed.dm?.content_sha256.length, 1);
    assert.equal(h.messages(), 1);

    // The retry's content differs (its link is signed anew): the first one's is still looked for.
    const again = await h.client(2, 1).sendDirectMessage({ ...dm, content: `${dm.content}?v=2` }, "job:1");
    assert.equal(again.ok, true, JSON.stringify(again));
    assert.match(String(h.ledger.observed.confirmed?.message_id), /^post_/);
    assert.equal(h.messages(), 1, "one DM");
  });
});

Deno.test("DM: not found is sent again (and noted); an unreadable channel sends nothing", async () => {
  await withHarness(async (h) => {
    const dm = { userId: "user_1", companyId: "biz_1", content: "Hi there" };
    await h.fault({ method: "POST", path: "/api/v1/messages", status: 503, times: 1 });
    assert.equal((await h.client(1).sendDirectMessage(dm, "job:1")).ok, false);
    const firstSentAt = h.ledger.observed.dm?.first_sent_at;

    await h.fault({ method: "GET", path: "/api/v1/messages", status: 500, times: 1 });
    const held = await h.client(2, 1).sendDirectMessage(dm, "job:1");
    assert.equal(held.ok === false && held.kind === "transient" && held.notSent, true);
    assert.equal(h.messages(), 0);

    assert.equal((await h.client(3, 2).sendDirectMessage({ ...dm, content: "Hi again" }, "job:1")).ok, true);
    assert.equal(h.messages(), 1);
    assert.equal(h.ledger.observed.dm?.content_sha256.length, 2);
    assert.equal(h.ledger.observed.dm?.first_sent_at, firstSentAt, "the first send's time is kept");
    // An older identical message (another job's, days ago) would not count: only since the first send.
    assert.equal(h.ledger.observed.confirmed, undefined);
  });
});

Deno.test("push: an unknown outcome is resent once; a second unknown ends it dead", async () => {
  await withHarness(async (h) => {
    const push = { experienceId: "exp_1", userIds: ["user_1"], title: "t", content: "c" };
    await h.fault({ path: "/api/v1/notifications", status: 503, times: 2 });
    const first = await h.client(1).sendPushNotification(push, "job:1");
    assert.equal(settled(first), null, "the retry policy decides after the first");
    const second = await h.client(2, 1).sendPushNotification(push, "job:1");
    assert.equal(settled(second), "dead");
    const decision = settledDecision(second);
    assert.match(decision?.outcome === "dead" ? decision.error : "", /not resent/);
    // Two unknown outcomes already behind it (two crashes, say): not even tried.
    const third = await h.client(3, 2).sendPushNotification(push, "job:1");
    assert.equal(settled(third), "dead");
    assert.equal(await h.calls("POST", "/api/v1/notifications"), 2);
    // A refusal (429) is not unknown: a later success is just a success.
    await h.fault({ path: "/api/v1/notifications", status: 429, times: 1 });
    assert.equal(settled(await h.client(2, 1).sendPushNotification(push, "job:2")), null);
    assert.equal((await h.client(3, 1).sendPushNotification(push, "job:2")).ok, true);
  });
});

Deno.test("daysAdded and parseTime", () => {
  const at = (renewal: string | null, expires: string | null = null): FreeDaysObservation => ({
    read_at: "",
    days: 3,
    renewal_period_end: renewal,
    expires_at: expires,
    status: null,
  });
  assert.equal(daysAdded(at("2030-01-01T00:00:00Z"), at("2030-01-04T00:00:00.000Z")), "added");
  assert.equal(daysAdded(at("2030-01-01T00:00:00Z"), at("2030-01-01T00:00:00.000Z")), "not_added");
  assert.equal(daysAdded(at("2030-01-01T00:00:00Z"), at("2030-01-01T00:30:00Z")), "not_added");
  assert.equal(daysAdded(at(null), at("2030-01-04T00:00:00Z")), "added", "a period end appeared");
  assert.equal(daysAdded(at(null, "2030-01-01T00:00:00Z"), at(null, "2030-01-02T00:00:00Z")), "added");
  assert.equal(daysAdded(at(null), at(null)), "unverifiable");
  assert.equal(daysAdded(at("2030-01-01T00:00:00Z"), at(null)), "unverifiable");
  assert.equal(parseTime("1767225600000"), 1767225600000);
  assert.equal(parseTime("1767225600"), 1767225600000);
  assert.equal(parseTime("2026-01-01T00:00:00Z"), 1767225600000);
  assert.equal(parseTime("soon"), null);
  assert.equal(parseTime(null), null);
});
