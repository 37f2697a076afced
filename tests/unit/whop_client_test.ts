// The Whop client against the Whop sandbox served on a real port: success shapes, idempotency, and
// every failure class (401, 4xx, 5xx, 429 with and without Retry-After, timeout, network error).
import assert from "node:assert/strict";
import { createWhopClient, type WhopCallOutcome } from "../../supabase/functions/_shared/whop/client.ts";
import { outcomeUnknown, retryAfterSeconds } from "../../supabase/functions/_shared/whop/client_outcome.ts";
import { serveSandbox } from "../support/sandbox_server.ts";

const API_KEY = "sk_test_churnSaverSecret_0123456789";
const APP_ID = "app_churnSaverTest";

interface Harness {
  client: ReturnType<typeof createWhopClient>;
  baseUrl: string;
  control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  fault(fault: Record<string, unknown>): Promise<void>;
  calls(path: string): Promise<Array<Record<string, unknown>>>;
  state(): Promise<Record<string, unknown[]>>;
}

/** Serves a fresh sandbox with fixtures, runs `body`, always shuts the server down. */
async function withSandbox(body: (h: Harness) => Promise<void>, timeoutMs = 2000): Promise<void> {
  const { control, origin, close } = await serveSandbox({ apiKey: API_KEY, appId: APP_ID });
  try {
    await control("POST", "/fixtures", {
      memberships: [{
        id: "mem_1",
        user_id: "user_1",
        company_id: "biz_1",
        status: "past_due",
        renewal_period_end: "2030-01-10T00:00:00.000Z",
      }],
      experiences: [{ id: "exp_1", company_id: "biz_1" }],
      access: [{ user_id: "user_9", resource_id: "biz_1", access_level: "admin" }],
    });
    const baseUrl = `${origin}/api/v1`;
    await body({
      client: createWhopClient({ baseUrl, apiKey: API_KEY, appId: APP_ID, timeoutMs }),
      baseUrl,
      control,
      fault: async (fault) => void await control("POST", "/faults", fault),
      calls: async (path) =>
        (await control("GET", `/calls?path=${encodeURIComponent(path)}`)).calls as Array<
          Record<string, unknown>
        >,
      state: async () => (await control("GET", "/state")) as Record<string, unknown[]>,
    });
  } finally {
    await close();
  }
}

function assertOk(outcome: WhopCallOutcome): asserts outcome is Extract<WhopCallOutcome, { ok: true }> {
  assert.equal(outcome.ok, true, JSON.stringify(outcome));
}

function assertKeyAbsent(outcome: WhopCallOutcome) {
  assert.ok(!JSON.stringify(outcome).includes(API_KEY), "the API key must not appear in an outcome");
}

const push = {
  experienceId: "exp_1",
  userIds: ["user_1"],
  title: "Your payment didn't go through",
  content: "Update your card: https://dash.example/r/abc",
};

Deno.test("sendPushNotification posts Whop's body with auth, app id and idempotency headers", async () => {
  await withSandbox(async (h) => {
    const outcome = await h.client.sendPushNotification(
      { ...push, subtitle: "Churn Saver", restPath: "cases/1" },
      "job_1:push",
    );
    assertOk(outcome);
    assert.equal(outcome.status, 200);
    assert.deepEqual(outcome.body, { success: true });
    assert.ok(outcome.latencyMs >= 0);

    const [call] = await h.calls("/api/v1/notifications");
    assert.deepEqual(call.body, {
      experience_id: "exp_1",
      user_ids: ["user_1"],
      title: push.title,
      content: push.content,
      subtitle: "Churn Saver",
      rest_path: "cases/1",
    });
    assert.equal(call.auth_matched, true);
    assert.equal(call.idempotency_key, "job_1:push");
    const headers = call.headers as Record<string, string>;
    assert.equal(headers["x-whop-app-id"], APP_ID);
    assert.match(headers["content-type"], /^application\/json/);
  });
});

Deno.test("every call sends Api-Version-Date 2026-07-20; only mutations carry an Idempotency-Key", async () => {
  await withSandbox(async (h) => {
    assertOk(await h.client.sendPushNotification(push, "v_push"));
    assertOk(
      await h.client.sendDirectMessage({ userId: "user_1", companyId: "biz_1", content: "Hi" }, "v_dm"),
    );
    assertOk(await h.client.addFreeDays({ membershipId: "mem_1", days: 1 }, "v_days"));
    assertOk(await h.client.cancelMembership({ membershipId: "mem_1", mode: "at_period_end" }, "v_cancel"));
    assertOk(await h.client.getMembership("mem_1"));
    assertOk(await h.client.checkAccess("user_9", "biz_1"));

    const calls = await h.calls("/api/v1/**");
    assert.equal(calls.length, 7);
    for (const call of calls) {
      const what = `${call.method} ${call.path}`;
      // The value @whop/sdk 0.0.42 sends; a literal here so a changed constant is a deliberate change.
      assert.equal((call.headers as Record<string, string>)["api-version-date"], "2026-07-20", what);
      if (call.method === "POST") assert.match(String(call.idempotency_key), /^v_/, what);
      else assert.equal(call.idempotency_key, null, what);
    }
  });
});

Deno.test("the same idempotency key twice has one effect (push, free days, DM)", async () => {
  await withSandbox(async (h) => {
    assertOk(await h.client.sendPushNotification(push, "k_push"));
    assertOk(await h.client.sendPushNotification(push, "k_push"));

    const first = await h.client.addFreeDays({ membershipId: "mem_1", days: 3 }, "k_days");
    const second = await h.client.addFreeDays({ membershipId: "mem_1", days: 3 }, "k_days");
    assertOk(first);
    assertOk(second);
    assert.deepEqual(second.body, first.body);
    assert.equal(
      (first.body as { renewal_period_end: string }).renewal_period_end,
      "2030-01-13T00:00:00.000Z",
    );

    const dm = { userId: "user_1", companyId: "biz_1", content: "Hi **there**" };
    assertOk(await h.client.sendDirectMessage(dm, "k_dm"));
    assertOk(await h.client.sendDirectMessage(dm, "k_dm"));

    const state = await h.state();
    assert.equal(state.notifications.length, 1);
    assert.equal(state.messages.length, 1);
    const replays = (await h.calls("/api/v1/**")).filter((c) => c.idempotent_replay);
    assert.equal(replays.length, 4, "push, free days, channel and message were each replayed once");
    const keys = (await h.calls("/api/v1/dm_channels")).map((c) => c.idempotency_key);
    assert.deepEqual(keys, ["k_dm:channel", "k_dm:channel"]);
    const messageKeys = (await h.calls("/api/v1/messages")).map((c) => c.idempotency_key);
    assert.deepEqual(messageKeys, ["k_dm:message", "k_dm:message"]);
  });
});

Deno.test("openDmChannel answers the channel id; sendMessage posts Markdown to it", async () => {
  await withSandbox(async (h) => {
    const channel = await h.client.openDmChannel({ userId: "user_1", companyId: "biz_1" }, "c1");
    assert.equal(channel.ok, true);
    if (!channel.ok) return;
    assert.match(channel.channelId, /^feed_/);
    assert.equal((channel.body as { id: string }).id, channel.channelId);
    const again = await h.client.openDmChannel({ userId: "user_1", companyId: "biz_1" }, "c2");
    assert.equal(again.ok && again.channelId, channel.channelId, "Whop returns the existing channel");

    const sent = await h.client.sendMessage({ channelId: channel.channelId, content: "Hi **there**" }, "m1");
    assertOk(sent);
    assert.match((sent.body as { id: string }).id, /^post_/);
    const [call] = await h.calls("/api/v1/messages");
    assert.deepEqual(call.body, { channel_id: channel.channelId, content: "Hi **there**" });
  });
});

Deno.test("sendDirectMessage returns the first failing step's outcome", async () => {
  await withSandbox(async (h) => {
    await h.fault({ method: "POST", path: "/api/v1/dm_channels", status: 503, times: 1 });
    const failedOpen = await h.client.sendDirectMessage({ userId: "user_1", content: "Hi" }, "d1");
    assert.equal(failedOpen.ok === false && failedOpen.kind, "transient");
    assert.equal(failedOpen.status, 503);
    assert.equal((await h.calls("/api/v1/messages")).length, 0, "no message after a failed open");

    await h.fault({ method: "POST", path: "/api/v1/messages", status: 403, times: 1 });
    const failedSend = await h.client.sendDirectMessage({ userId: "user_1", content: "Hi" }, "d2");
    assert.equal(failedSend.ok === false && failedSend.kind, "permanent");
    assert.equal(failedSend.status, 403);
  });
});

Deno.test("getMembership, addFreeDays and checkAccess answer Whop's objects", async () => {
  await withSandbox(async (h) => {
    const membership = await h.client.getMembership("mem_1");
    assertOk(membership);
    const body = membership.body as { id: string; status: string; manage_url: string };
    assert.equal(body.id, "mem_1");
    assert.equal(body.status, "past_due");
    assert.equal(typeof body.manage_url, "string");

    const admin = await h.client.checkAccess("user_9", "biz_1");
    assertOk(admin);
    assert.deepEqual(admin.body, { access_level: "admin", has_access: true });
    const nobody = await h.client.checkAccess("user_x", "biz_1");
    assertOk(nobody);
    assert.deepEqual(nobody.body, { access_level: "no_access", has_access: false });

    const missing = await h.client.getMembership("mem_missing");
    assert.equal(missing.ok, false);
    if (missing.ok) return;
    assert.equal(missing.kind, "permanent");
    assert.equal(missing.status, 404);
    assert.equal(missing.kind === "permanent" && missing.code, "not_found");
  });
});

Deno.test("listMessages reads a channel newest first, page by page, with Whop's query", async () => {
  await withSandbox(async (h) => {
    const channel = await h.client.openDmChannel({ userId: "user_1", companyId: "biz_1" }, "lc");
    assert.ok(channel.ok);
    if (!channel.ok) return;
    for (const content of ["one", "two", "three"]) {
      assertOk(await h.client.sendMessage({ channelId: channel.channelId, content }, `lm_${content}`));
    }
    const page = await h.client.listMessages({ channelId: channel.channelId, first: 2 });
    assert.ok(page.ok, JSON.stringify(page));
    if (!page.ok) return;
    assert.deepEqual(page.messages.map((m) => m.content), ["three", "two"]);
    assert.ok(page.nextCursor);
    const rest = await h.client.listMessages({
      channelId: channel.channelId,
      first: 2,
      after: page.nextCursor!,
    });
    assert.ok(rest.ok);
    if (!rest.ok) return;
    assert.deepEqual(rest.messages.map((m) => m.content), ["one"]);
    assert.equal(rest.nextCursor, null);

    const [call] = await h.calls("/api/v1/messages").then((calls) => calls.filter((c) => c.method === "GET"));
    assert.deepEqual(call.query, { channel_id: channel.channelId, direction: "desc", first: "2" });
    assert.equal(call.idempotency_key, null);

    const missing = await h.client.listMessages({ channelId: "feed_missing" });
    assert.equal(!missing.ok && missing.status, 404);
    const invalid = await h.client.listMessages({ channelId: "" });
    assert.equal(!invalid.ok && invalid.status, 0);
  });
});

Deno.test("outcomeUnknown: a timeout, a network error and any 5xx; not a 429, a 4xx or a success", async () => {
  await withSandbox(async (h) => {
    await h.fault({ path: "/api/v1/notifications", status: 503, times: 1 });
    assert.equal(outcomeUnknown(await h.client.sendPushNotification(push, "u1")), true);
    await h.fault({ path: "/api/v1/notifications", latency_ms: 500, times: 1 });
    assert.equal(outcomeUnknown(await h.client.sendPushNotification(push, "u2")), true);
    await h.fault({ path: "/api/v1/notifications", status: 429, times: 1 });
    assert.equal(outcomeUnknown(await h.client.sendPushNotification(push, "u3")), false);
    await h.fault({ path: "/api/v1/notifications", status: 400, times: 1 });
    assert.equal(outcomeUnknown(await h.client.sendPushNotification(push, "u4")), false);
    assert.equal(outcomeUnknown(await h.client.sendPushNotification(push, "u5")), false);
  }, 200);
  const offline = createWhopClient({ baseUrl: "http://127.0.0.1:9/api/v1", apiKey: API_KEY });
  assert.equal(outcomeUnknown(await offline.sendPushNotification(push, "u6")), true);
});

Deno.test("cancelMembership posts the cancellation mode once per idempotency key", async () => {
  await withSandbox(async (h) => {
    const atPeriodEnd = await h.client.cancelMembership(
      { membershipId: "mem_1", mode: "at_period_end" },
      "cx1",
    );
    assertOk(atPeriodEnd);
    const body = atPeriodEnd.body as { id: string; status: string; cancel_at_period_end: boolean };
    assert.equal(body.id, "mem_1");
    assert.equal(body.cancel_at_period_end, true);
    assert.notEqual(body.status, "canceled", "at period end keeps the membership until then");
    assertOk(await h.client.cancelMembership({ membershipId: "mem_1", mode: "at_period_end" }, "cx1"));

    const calls = await h.calls("/api/v1/memberships/*/cancel");
    assert.deepEqual(calls.map((c) => [c.method, c.path, c.idempotency_key]), [
      ["POST", "/api/v1/memberships/mem_1/cancel", "cx1"],
      ["POST", "/api/v1/memberships/mem_1/cancel", "cx1"],
    ]);
    assert.deepEqual(calls[0].body, { cancellation_mode: "at_period_end" });
    assert.equal(calls[1].idempotent_replay, true, "the second call is a replay, not a second cancel");

    const immediate = await h.client.cancelMembership({ membershipId: "mem_1", mode: "immediate" }, "cx2");
    assertOk(immediate);
    assert.equal((immediate.body as { status: string }).status, "canceled");

    const missing = await h.client.cancelMembership(
      { membershipId: "mem_missing", mode: "immediate" },
      "cx3",
    );
    assert.equal(missing.ok === false && missing.kind, "permanent");
    assert.equal(missing.status, 404);

    const mode = "later" as "immediate";
    const invalid = await h.client.cancelMembership({ membershipId: "mem_1", mode }, "cx4");
    assert.equal(invalid.ok === false && invalid.kind === "permanent" && invalid.code, "invalid_input");
    const noKey = await h.client.cancelMembership({ membershipId: "mem_1", mode: "immediate" }, "");
    assert.equal(noKey.ok === false && noKey.kind === "permanent" && noKey.code, "invalid_input");
    assert.equal((await h.calls("/api/v1/memberships/*/cancel")).length, 4, "refused input is never sent");
  });
});

Deno.test("path segments are URL-encoded", async () => {
  await withSandbox(async (h) => {
    await h.client.getMembership("mem/../x y");
    await h.client.checkAccess("user?1", "biz#1");
    const calls = await h.calls("/api/v1/**");
    assert.deepEqual(
      calls.map((c) => c.path),
      ["/api/v1/memberships/mem%2F..%2Fx%20y", "/api/v1/users/user%3F1/access/biz%231"],
    );
  });
});

Deno.test("a wrong API key is a permanent 401 whose message never holds a key", async () => {
  await withSandbox(async (h) => {
    const wrongKey = "sk_test_wrongKey_abcdefghijk";
    const client = createWhopClient({ baseUrl: h.baseUrl, apiKey: wrongKey, timeoutMs: 2000 });
    const outcome = await client.getMembership("mem_1");
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.kind, "permanent");
    assert.equal(outcome.status, 401);
    assert.equal(outcome.kind === "permanent" && outcome.code, "unauthorized");
    assert.ok(!JSON.stringify(outcome).includes(wrongKey));
  });
});

Deno.test("5xx is transient with Whop's message", async () => {
  await withSandbox(async (h) => {
    await h.fault({ path: "/api/v1/notifications", status: 500, times: 1 });
    const outcome = await h.client.sendPushNotification(push, "t1");
    assert.equal(outcome.ok === false && outcome.kind, "transient");
    assert.equal(outcome.status, 500);
    assert.match((outcome as { message: string }).message, /^Injected sandbox fault flt_/);
    // 5xx answers are not stored as idempotent answers: the retry goes through.
    assertOk(await h.client.sendPushNotification(push, "t1"));
  });
});

Deno.test("429 reads Retry-After first, then the body's 'Try again in N seconds', else 60", async () => {
  await withSandbox(async (h) => {
    await h.fault({ path: "/api/v1/notifications", status: 429, retry_after_seconds: 12, times: 1 });
    const fromBody = await h.client.sendPushNotification(push, "r1");
    assert.equal(fromBody.ok === false && fromBody.kind, "rate_limited");
    assert.equal(fromBody.status, 429);
    assert.equal(fromBody.ok === false && fromBody.kind === "rate_limited" && fromBody.retryAfterSeconds, 12);
    assert.equal((fromBody as { message: string }).message, "Try again in 12 seconds.");

    // The header and the body disagree here: the header wins.
    await h.fault({
      path: "/api/v1/memberships/*/add_free_days",
      status: 429,
      retry_after_header: true,
      retry_after_seconds: 7,
      body: { error: { type: "rate_limit_exceeded", message: "Try again in 30 seconds." } },
      times: 1,
    });
    const fromHeader = await h.client.addFreeDays({ membershipId: "mem_1", days: 3 }, "r2");
    assert.equal(
      fromHeader.ok === false && fromHeader.kind === "rate_limited" && fromHeader.retryAfterSeconds,
      7,
    );

    await h.fault({
      path: "/api/v1/messages",
      status: 429,
      body: { error: { type: "rate_limit_exceeded" } },
    });
    const silent = await h.client.sendMessage({ channelId: "feed_x", content: "x" }, "r3");
    assert.equal(silent.ok === false && silent.kind === "rate_limited" && silent.retryAfterSeconds, 60);
  });
});

Deno.test("the sandbox's own rate limiter, with and without Retry-After, maps to rate_limited", async () => {
  await withSandbox(async (h) => {
    await h.control("PUT", "/settings", { rate_limit_per_minute: 1, rate_limit_retry_after_header: true });
    assertOk(await h.client.getMembership("mem_1"));
    const limited = await h.client.getMembership("mem_1");
    assert.equal(limited.ok === false && limited.kind, "rate_limited");
    const seconds = (outcome: WhopCallOutcome) =>
      outcome.ok === false && outcome.kind === "rate_limited" ? outcome.retryAfterSeconds : -1;
    assert.ok(seconds(limited) >= 1 && seconds(limited) <= 60, String(seconds(limited)));

    await h.control("PUT", "/settings", { rate_limit_per_minute: 1, rate_limit_retry_after_header: false });
    assertOk(await h.client.checkAccess("user_9", "biz_1"));
    const fromBody = await h.client.checkAccess("user_9", "biz_1");
    assert.match((fromBody as { message: string }).message, /^Try again in \d+ seconds\.$/);
    assert.ok(seconds(fromBody) >= 1 && seconds(fromBody) <= 60, String(seconds(fromBody)));
  });
});

Deno.test("Retry-After as an HTTP date, and the parser's fallbacks", () => {
  const now = Date.parse("2030-01-01T00:00:00Z");
  assert.equal(retryAfterSeconds("Tue, 01 Jan 2030 00:00:30 GMT", null, now), 30);
  assert.equal(retryAfterSeconds("Mon, 31 Dec 2029 23:00:00 GMT", null, now), 0, "a past date means now");
  assert.equal(retryAfterSeconds(" 5 ", "Try again in 40 seconds.", now), 5);
  assert.equal(retryAfterSeconds("soon", "Try again in 1.2 seconds.", now), 2);
  assert.equal(retryAfterSeconds(null, "Try again in 1 second.", now), 1);
  assert.equal(retryAfterSeconds(null, "Slow down", now), 60);
  assert.equal(retryAfterSeconds(null, null, now), 60);
});

Deno.test("a slow answer beyond timeoutMs is a transient timeout, and the call returns on time", async () => {
  await withSandbox(async (h) => {
    // The server still finishes the slow answer before shutdown, so keep the latency modest.
    await h.fault({ path: "/api/v1/notifications", latency_ms: 500, times: 1 });
    const started = performance.now();
    const outcome = await h.client.sendPushNotification(push, "slow1");
    const took = performance.now() - started;
    assert.equal(outcome.ok === false && outcome.kind, "transient");
    assert.equal(outcome.status, null);
    assert.match((outcome as { message: string }).message, /timeout/);
    assert.ok(took < 450, `returned after ${Math.round(took)} ms`);
    assert.ok(outcome.latencyMs >= 190, String(outcome.latencyMs));
  }, 200);
});

Deno.test("a timeout also bounds a fetch that ignores its abort signal", async () => {
  let release = () => {};
  const hanging: typeof fetch = () =>
    new Promise<Response>((resolve) => release = () => resolve(new Response("{}")));
  const client = createWhopClient({
    baseUrl: "http://whop.test/api/v1",
    apiKey: API_KEY,
    timeoutMs: 50,
    fetch: hanging,
  });
  const outcome = await client.getMembership("mem_1");
  release();
  assert.equal(outcome.ok === false && outcome.kind, "transient");
  assert.match((outcome as { message: string }).message, /^timeout: .*GET \/memberships\/mem_1.* 50 ms/);
});

Deno.test("a network error is transient with no status", async () => {
  // A port that was just free: nothing listens there.
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const client = createWhopClient({
    baseUrl: `http://127.0.0.1:${port}/api/v1`,
    apiKey: API_KEY,
    timeoutMs: 2000,
  });
  const outcome = await client.getMembership("mem_1");
  assert.equal(outcome.ok === false && outcome.kind, "transient");
  assert.equal(outcome.status, null);
  assert.match((outcome as { message: string }).message, /^network error calling GET \/memberships\/mem_1/);
  assertKeyAbsent(outcome);
});

Deno.test("400/422 are permanent with Whop's error code and message", async () => {
  await withSandbox(async (h) => {
    await h.fault({
      path: "/api/v1/notifications",
      status: 400,
      body: { error: { code: "bad_request", message: "experience_id is not an experience" } },
      times: 1,
    });
    const outcome = await h.client.sendPushNotification(push, "b1");
    assert.deepEqual({ ...outcome, latencyMs: 0 }, {
      ok: false,
      kind: "permanent",
      status: 400,
      code: "bad_request",
      message: "experience_id is not an experience",
      latencyMs: 0,
    });

    // A real validation error from the sandbox's handler: an empty title.
    const invalid = await h.client.sendPushNotification({ ...push, title: "" }, "b2");
    assert.equal(invalid.ok === false && invalid.kind, "permanent");
    assert.equal(invalid.status, 422);
    assert.equal(invalid.ok === false && invalid.kind === "permanent" && invalid.code, "invalid_params");
    assert.match((invalid as { message: string }).message, /title/);
  });
});

Deno.test("an unexpected success body is permanent 'unexpected_response'", async () => {
  await withSandbox(async (h) => {
    await h.fault({ path: "/api/v1/dm_channels", status: 200, body: { channel: "feed_1" }, times: 1 });
    const channel = await h.client.openDmChannel({ userId: "user_1" }, "u1");
    assert.equal(channel.ok === false && channel.kind, "permanent");
    assert.equal(channel.ok === false && channel.kind === "permanent" && channel.code, "unexpected_response");

    await h.fault({ path: "/api/v1/notifications", status: 200, body: { success: false }, times: 1 });
    const notSent = await h.client.sendPushNotification(push, "u2");
    assert.equal(notSent.ok === false && notSent.kind === "permanent" && notSent.code, "unexpected_response");

    await h.fault({ path: "/api/v1/memberships/*", status: 200, body: "<html>hi</html>", times: 1 });
    const html = await h.client.getMembership("mem_1");
    assert.equal(html.ok === false && html.kind === "permanent" && html.code, "unexpected_response");
  });
});

Deno.test("input is checked before any request: free days range, empty ids, empty user list", async () => {
  await withSandbox(async (h) => {
    for (const days of [0, 1096, 2.5, Number.NaN]) {
      const outcome = await h.client.addFreeDays({ membershipId: "mem_1", days }, `f${days}`);
      assert.deepEqual(outcome, {
        ok: false,
        kind: "permanent",
        status: 0,
        code: "invalid_input",
        message: "days must be an integer from 1 to 1095",
        latencyMs: 0,
      });
    }
    const noUsers = await h.client.sendPushNotification({ ...push, userIds: [] }, "p");
    assert.equal(noUsers.ok === false && noUsers.kind === "permanent" && noUsers.code, "invalid_input");
    const noKey = await h.client.sendMessage({ channelId: "feed_1", content: "x" }, "");
    assert.equal(noKey.ok === false && noKey.kind === "permanent" && noKey.code, "invalid_input");
    assert.equal((await h.calls("/api/v1/**")).length, 0);
    assertOk(await h.client.addFreeDays({ membershipId: "mem_1", days: 1095 }, "f_max"));
  });
});

Deno.test("the API key never appears in outcomes, even when Whop echoes it", async () => {
  await withSandbox(async (h) => {
    await h.fault({
      path: "/api/v1/messages",
      status: 401,
      body: { error: { code: "unauthorized", message: `Bad key ${API_KEY}` } },
      times: 1,
    });
    const echoed = await h.client.sendMessage({ channelId: "feed_1", content: "x" }, "e1");
    assert.equal((echoed as { message: string }).message, "Bad key ***");
    assertKeyAbsent(echoed);
    const [call] = await h.calls("/api/v1/messages");
    assert.equal((call.headers as Record<string, string>).authorization, "Bearer ***");
  });
  assert.throws(
    () => createWhopClient({ baseUrl: "http://x", apiKey: `${API_KEY}\n` }),
    (error: Error) => !error.message.includes(API_KEY),
  );
});
