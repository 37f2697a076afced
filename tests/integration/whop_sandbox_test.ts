// The Whop sandbox over real HTTP: REST shapes (proven with the official @whop/sdk client), auth,
// faults, idempotency, rate limiting, the call log, JWKS-verified user tokens and signed webhooks.
import assert from "node:assert/strict";
import Whop, { APIConnectionTimeoutError, APIError } from "@whop/sdk";
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify } from "jose";
import { createSandbox, type Sandbox, type SandboxOptions } from "../../whop-sandbox/app.ts";
import { legacyEvent, membershipEvent, paymentEvent } from "../../whop-sandbox/payloads.ts";
import type { CallRecord } from "../../whop-sandbox/call_log.ts";
import { createWhopClient } from "../../supabase/functions/_shared/whop/client.ts";
import {
  signLegacyWebhook,
  signStandardWebhook,
} from "../../supabase/functions/_shared/whop/webhook_signature.ts";

const API_KEY = "sandbox_test_api_key";
const APP_ID = "app_churnsaver0001";
const SECRET = "ws_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const COMPANY = "biz_creator000001";
const USER = "user_member000001";
const MEMBERSHIP = "mem_member0000001";

interface Harness {
  url: string;
  sandbox: Sandbox;
  whop: Whop;
  /** Raw HTTP call; always consumes the body. */
  call(method: string, path: string, init?: CallInit): Promise<Answer>;
  control(method: string, path: string, body?: unknown): Promise<Answer>;
  calls(query?: string): Promise<CallRecord[]>;
}

interface CallInit {
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  auth?: string | null;
  signal?: AbortSignal;
}

interface Answer {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  json: any;
  ms: number;
}

async function withSandbox(
  fn: (h: Harness) => Promise<void>,
  options: SandboxOptions = {},
): Promise<void> {
  const sandbox = createSandbox({ apiKey: API_KEY, appId: APP_ID, webhookSecret: SECRET, ...options });
  await sandbox.ready;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, sandbox.app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  const call = async (method: string, path: string, init: CallInit = {}): Promise<Answer> => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    const auth = init.auth === undefined ? `Bearer ${API_KEY}` : init.auth;
    if (auth !== null) headers.authorization = auth;
    let body: string | undefined = init.rawBody;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers["content-type"] = "application/json";
    }
    const started = performance.now();
    const res = await fetch(`${url}${path}`, { method, headers, body, signal: init.signal });
    const text = await res.text();
    const ms = performance.now() - started;
    let json: unknown = text;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch { /* keep text */ }
    return { status: res.status, headers: res.headers, json, ms };
  };
  const harness: Harness = {
    url,
    sandbox,
    whop: new Whop({ apiKey: API_KEY, appID: APP_ID, baseURL: `${url}/api/v1`, maxRetries: 0 }),
    call,
    control: (method, path, body) => call(method, `/_sandbox${path}`, { body, auth: null }),
    calls: async (query = "") => (await call("GET", `/_sandbox/calls${query}`, { auth: null })).json.calls,
  };
  try {
    await fn(harness);
  } finally {
    await server.shutdown();
  }
}

async function seedMembership(h: Harness, extra: Record<string, unknown> = {}) {
  const res = await h.control("POST", "/fixtures", {
    memberships: [{ id: MEMBERSHIP, user_id: USER, company_id: COMPANY, status: "past_due", ...extra }],
  });
  assert.equal(res.status, 200);
  return res.json.memberships[0];
}

function assertWhopError(a: Answer, status: number, code?: string) {
  assert.equal(a.status, status, JSON.stringify(a.json));
  assert.equal(typeof a.json?.error?.message, "string");
  if (code) assert.equal(a.json.error.code, code);
}

async function expectApiError(promise: Promise<unknown>, status: number): Promise<APIError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof APIError, `expected APIError, got ${err}`);
    assert.equal(err.status, status);
    return err;
  }
  throw new Error(`expected HTTP ${status}`);
}

// ---- health, auth -----------------------------------------------------------------------------

Deno.test("health answers ok and unknown routes answer Whop's 404 shape", async () => {
  await withSandbox(async (h) => {
    const health = await h.control("GET", "/health");
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { status: "ok" });
    assertWhopError(await h.call("GET", "/api/v1/no_such_thing"), 404, "not_found");
  });
});

Deno.test("REST calls need the API key: missing or wrong -> 401, logged with auth_matched false", async () => {
  await withSandbox(async (h) => {
    await seedMembership(h);
    assertWhopError(
      await h.call("GET", `/api/v1/memberships/${MEMBERSHIP}`, { auth: null }),
      401,
      "unauthorized",
    );
    assertWhopError(
      await h.call("GET", `/api/v1/memberships/${MEMBERSHIP}`, { auth: "Bearer wrong" }),
      401,
      "unauthorized",
    );
    const wrongClient = new Whop({ apiKey: "wrong", baseURL: `${h.url}/api/v1`, maxRetries: 0 });
    await expectApiError(wrongClient.memberships.retrieve(MEMBERSHIP), 401);
    assert.equal((await h.call("GET", `/api/v1/memberships/${MEMBERSHIP}`)).status, 200);

    const calls = await h.calls();
    assert.deepEqual(calls.map((c) => [c.status, c.auth_matched]), [
      [401, false],
      [401, false],
      [401, false],
      [200, true],
    ]);
    assert.equal(calls[1].headers.authorization, "Bearer ***");
    assert.equal(calls[3].headers.authorization, "Bearer ***");
    assert.equal(calls[0].headers.authorization, undefined);
  });
});

Deno.test("without an API key configured, any caller is accepted", async () => {
  await withSandbox(async (h) => {
    const res = await h.call("POST", "/api/v1/notifications", {
      auth: null,
      body: { company_id: COMPANY, title: "t", content: "c" },
    });
    assert.equal(res.status, 200);
    assert.equal((await h.calls())[0].auth_matched, true);
  }, { apiKey: "" });
});

// ---- notifications, DM channels, messages ------------------------------------------------------

Deno.test("notifications: the SDK sends one and the call log shows exactly what was sent", async () => {
  await withSandbox(async (h) => {
    const a = await h.whop.notifications.create({
      experience_id: "exp_churnsaver001",
      user_ids: [USER],
      title: "Your payment failed",
      subtitle: "Pro Membership",
      content: "Update your card to keep access.",
      rest_path: "/recover/abc",
    });
    assert.deepEqual(a, { success: true });
    const b = await h.whop.notifications.create({ company_id: COMPANY, title: "Team alert", content: "x" });
    assert.deepEqual(b, { success: true });

    const calls = await h.calls("?method=POST&path=/api/v1/notifications");
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[0].body, {
      experience_id: "exp_churnsaver001",
      user_ids: [USER],
      title: "Your payment failed",
      subtitle: "Pro Membership",
      content: "Update your card to keep access.",
      rest_path: "/recover/abc",
    });
    assert.equal(calls[0].headers["x-whop-app-id"], APP_ID);
    assert.equal(calls[0].status, 200);
    assert.equal(calls[0].fault_id, null);
    assert.equal(typeof calls[0].duration_ms, "number");
    assert.equal(h.sandbox.state.notifications.length, 2);
  });
});

Deno.test("notifications: missing fields -> 422, bad JSON -> 400, both in Whop's error shape", async () => {
  await withSandbox(async (h) => {
    const noTitle = await h.call("POST", "/api/v1/notifications", {
      body: { experience_id: "exp_1", content: "c" },
    });
    assertWhopError(noTitle, 422, "invalid_params");
    assert.match(noTitle.json.error.message, /title/);
    const noTarget = await h.call("POST", "/api/v1/notifications", { body: { title: "t", content: "c" } });
    assertWhopError(noTarget, 422);
    assert.match(noTarget.json.error.message, /experience_id or company_id/);
    assertWhopError(
      await h.call("POST", "/api/v1/notifications", {
        rawBody: "{not json",
        headers: { "content-type": "application/json" },
      }),
      400,
      "bad_request",
    );
    // deno-lint-ignore no-explicit-any
    await expectApiError(h.whop.notifications.create({ company_id: COMPANY, content: "c" } as any), 422);
    assert.equal(h.sandbox.state.notifications.length, 0);
  });
});

Deno.test("dm_channels: same participants give the same channel; messages land in it", async () => {
  await withSandbox(async (h) => {
    const first = await h.whop.dmChannels.create({ with_user_ids: [USER, "user_other00000001"] });
    assert.deepEqual(Object.keys(first).sort(), ["created_at", "id", "last_message_at", "name"]);
    assert.match(first.id, /^feed_/);
    assert.equal(first.last_message_at, null);
    assert.match(first.created_at, /^\d+$/);
    const again = await h.whop.dmChannels.create({ with_user_ids: ["user_other00000001", USER] });
    assert.equal(again.id, first.id);
    const other = await h.whop.dmChannels.create({ with_user_ids: [USER], company_id: COMPANY });
    assert.notEqual(other.id, first.id);
    assertWhopError(await h.call("POST", "/api/v1/dm_channels", { body: { with_user_ids: [] } }), 422);

    const message = await h.whop.messages.create({ channel_id: first.id, content: "Hi **there**" });
    assert.match(message.id, /^post_/);
    assert.equal(message.content, "Hi **there**");
    assert.equal(message.message_type, "regular");
    assert.equal(message.is_edited, false);
    assert.deepEqual(message.mentions, []);
    assert.equal(typeof message.user.id, "string");
    assert.equal(typeof message.user.username, "string");
    assert.ok(Date.parse(message.created_at) > 0);
    const reread = await h.whop.dmChannels.create({ with_user_ids: [USER, "user_other00000001"] });
    assert.equal(reread.last_message_at, message.created_at);

    await expectApiError(h.whop.messages.create({ channel_id: "feed_doesnotexist01", content: "x" }), 404);
    assertWhopError(
      await h.call("POST", "/api/v1/messages", { body: { channel_id: "feed_nope", content: "x" } }),
      404,
      "not_found",
    );
    assertWhopError(await h.call("POST", "/api/v1/messages", { body: { channel_id: first.id } }), 422);
  });
});

// ---- memberships -------------------------------------------------------------------------------

Deno.test("memberships: retrieve via the SDK has manage_url, status and the full shape", async () => {
  await withSandbox(async (h) => {
    await seedMembership(h, { cancel_option: "too_expensive" });
    const m = await h.whop.memberships.retrieve(MEMBERSHIP);
    assert.equal(m.id, MEMBERSHIP);
    assert.equal(m.status, "past_due");
    assert.equal(m.manage_url, `https://whop.com/billing/manage/${MEMBERSHIP}`);
    assert.equal(m.cancel_at_period_end, false);
    assert.equal(m.cancel_option, "too_expensive");
    assert.equal(m.company.id, COMPANY);
    assert.equal(m.user?.id, USER);
    assert.match(m.product.id, /^prod_/);
    assert.match(m.plan.id, /^plan_/);
    assert.ok(Date.parse(m.renewal_period_end ?? "") > 0);
    await expectApiError(h.whop.memberships.retrieve("mem_doesnotexist01"), 404);
  });
});

Deno.test("memberships: add_free_days extends the period once per Idempotency-Key", async () => {
  await withSandbox(async (h) => {
    const seeded = await seedMembership(h);
    const before = Date.parse(seeded.renewal_period_end);
    const opts = { headers: { "Idempotency-Key": "incentive-case-1" } };
    const first = await h.whop.memberships.addFreeDays(MEMBERSHIP, { free_days: 7 }, opts);
    assert.equal(Date.parse(first.renewal_period_end ?? "") - before, 7 * 86_400_000);
    const replay = await h.call("POST", `/api/v1/memberships/${MEMBERSHIP}/add_free_days`, {
      body: { free_days: 7 },
      headers: { "Idempotency-Key": "incentive-case-1" },
    });
    assert.equal(replay.status, 200);
    assert.equal(replay.headers.get("idempotent-replayed"), "true");
    assert.deepEqual(replay.json, JSON.parse(JSON.stringify(first)));
    const now = await h.whop.memberships.retrieve(MEMBERSHIP);
    assert.equal(Date.parse(now.renewal_period_end ?? "") - before, 7 * 86_400_000, "days added only once");

    // A different key is a different request.
    const second = await h.whop.memberships.addFreeDays(MEMBERSHIP, { free_days: 1 }, {
      headers: { "Idempotency-Key": "incentive-case-2" },
    });
    assert.equal(Date.parse(second.renewal_period_end ?? "") - before, 8 * 86_400_000);

    const calls = await h.calls("?path=/api/v1/memberships/*/add_free_days");
    assert.deepEqual(calls.map((c) => [c.idempotency_key, c.idempotent_replay]), [
      ["incentive-case-1", false],
      ["incentive-case-1", true],
      ["incentive-case-2", false],
    ]);

    for (const free_days of [0, 1096, 1.5]) {
      assertWhopError(
        await h.call("POST", `/api/v1/memberships/${MEMBERSHIP}/add_free_days`, { body: { free_days } }),
        422,
        "invalid_params",
      );
    }
    await expectApiError(h.whop.memberships.addFreeDays("mem_doesnotexist01", { free_days: 3 }), 404);
  });
});

Deno.test("memberships: cancel (both modes), uncancel, pause, resume; unknown -> 404", async () => {
  await withSandbox(async (h) => {
    await seedMembership(h, { status: "active" });
    const scheduled = await h.whop.memberships.cancel(MEMBERSHIP, { cancellation_mode: "at_period_end" });
    assert.equal(scheduled.cancel_at_period_end, true);
    assert.equal(scheduled.status, "active");
    assert.ok(scheduled.canceled_at);
    const undone = await h.whop.memberships.uncancel(MEMBERSHIP);
    assert.equal(undone.cancel_at_period_end, false);
    assert.equal(undone.canceled_at, null);
    const paused = await h.whop.memberships.pause(MEMBERSHIP, {});
    assert.equal(paused.payment_collection_paused, true);
    const resumed = await h.whop.memberships.resume(MEMBERSHIP);
    assert.equal(resumed.payment_collection_paused, false);
    const now = await h.whop.memberships.cancel(MEMBERSHIP, { cancellation_mode: "immediate" });
    assert.equal(now.status, "canceled");
    assertWhopError(
      await h.call("POST", `/api/v1/memberships/${MEMBERSHIP}/cancel`, {
        body: { cancellation_mode: "later" },
      }),
      422,
    );
    for (const suffix of ["", "/add_free_days", "/cancel", "/uncancel", "/pause", "/resume"]) {
      const method = suffix === "" ? "GET" : "POST";
      const body = suffix === "/add_free_days" ? { free_days: 1 } : undefined;
      assertWhopError(
        await h.call(method, `/api/v1/memberships/mem_unknown000001${suffix}`, { body }),
        404,
        "not_found",
      );
    }
  });
});

// ---- payments, access --------------------------------------------------------------------------

Deno.test("payments: retrieve and retry (success reactivates the membership; failure counts up)", async () => {
  await withSandbox(async (h) => {
    await seedMembership(h);
    await h.control("POST", "/fixtures", {
      payments: [
        {
          id: "pay_failed0000001",
          outcome: "failed",
          membership_id: MEMBERSHIP,
          user_id: USER,
          company_id: COMPANY,
          amount: 49,
        },
        { id: "pay_failed0000002", outcome: "failed", membership_id: null, retry_outcome: "failed" },
      ],
    });
    const p = await h.whop.payments.retrieve("pay_failed0000001");
    assert.equal(p.substatus, "failed");
    assert.equal(p.total, 49);
    assert.equal(p.usd_total, 49);
    assert.equal(p.membership?.id, MEMBERSHIP);
    assert.equal(p.retryable, true);

    const retried = await h.whop.payments.retry("pay_failed0000001");
    assert.equal(retried.status, "paid");
    assert.equal(retried.substatus, "succeeded");
    assert.ok(retried.paid_at);
    assert.equal((await h.whop.memberships.retrieve(MEMBERSHIP)).status, "active");
    await expectApiError(h.whop.payments.retry("pay_failed0000001"), 422);

    const stillFailing = await h.whop.payments.retry("pay_failed0000002");
    assert.equal(stillFailing.substatus, "failed");
    assert.equal(stillFailing.payments_failed, 2);

    await expectApiError(h.whop.payments.retrieve("pay_unknown0000001"), 404);
    assertWhopError(await h.call("POST", "/api/v1/payments/pay_unknown0000001/retry"), 404, "not_found");
  });
});

Deno.test("access: admin from fixtures, customer from a live membership, otherwise no_access", async () => {
  await withSandbox(async (h) => {
    await seedMembership(h);
    await h.control("POST", "/fixtures", {
      access: [{ user_id: "user_creator000001", resource_id: COMPANY, access_level: "admin" }],
    });
    assert.deepEqual(await h.whop.users.checkAccess(COMPANY, { id: "user_creator000001" }), {
      access_level: "admin",
      has_access: true,
    });
    assert.deepEqual(await h.whop.users.checkAccess(COMPANY, { id: USER }), {
      access_level: "customer",
      has_access: true,
    });
    assert.deepEqual(await h.whop.users.checkAccess(COMPANY, { id: "user_stranger00001" }), {
      access_level: "no_access",
      has_access: false,
    });
    const raw = await h.call("GET", `/api/v1/users/user_creator000001/access/${COMPANY}`);
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.json, { access_level: "admin", has_access: true });
  });
});

Deno.test("experiences: fixtures are retrievable and accept messages as a channel", async () => {
  await withSandbox(async (h) => {
    await h.control("POST", "/fixtures", { experiences: [{ id: "exp_churnsaver001", company_id: COMPANY }] });
    const exp = await h.whop.experiences.retrieve("exp_churnsaver001");
    assert.equal(exp.company.id, COMPANY);
    await expectApiError(h.whop.experiences.retrieve("exp_unknown0000001"), 404);
    const msg = await h.whop.messages.create({ channel_id: "exp_churnsaver001", content: "hello" });
    assert.equal(msg.content, "hello");
  });
});

Deno.test("experiences: GET /experiences lists a company's own in Whop's order, paged like the SDK reads it", async () => {
  await withSandbox(async (h) => {
    const mine = Array.from({ length: 5 }, (_, i) => ({
      id: `exp_listed00000${i}`,
      company_id: COMPANY,
      name: `Space ${i}`,
      order: String(5 - i),
    }));
    await h.control("POST", "/fixtures", {
      experiences: [...mine, { id: "exp_otherco000001", company_id: "biz_someoneelse01", name: "Not mine" }],
    });
    // The official client pages through with `after` until Whop gives no end_cursor.
    const seen: string[] = [];
    for await (const item of h.whop.experiences.list({ company_id: COMPANY, first: 2 })) {
      assert.equal(item.company.id, COMPANY);
      assert.equal(typeof item.name, "string");
      assert.equal(typeof item.app.name, "string");
      assert.ok(!("products" in item), "the list item has no products, as ExperienceListResponse");
      seen.push(item.id);
    }
    assert.deepEqual(seen, mine.map((e) => e.id).reverse(), "by `order`, ascending");
    const page = await h.call("GET", `/api/v1/experiences?company_id=${COMPANY}&first=3`);
    assert.equal(page.status, 200);
    assert.equal(page.json.data.length, 3);
    assert.equal(typeof page.json.page_info.end_cursor, "string");
    const last = await h.call(
      "GET",
      `/api/v1/experiences?company_id=${COMPANY}&first=3&after=${
        encodeURIComponent(page.json.page_info.end_cursor)
      }`,
    );
    assert.equal(last.json.data.length, 2);
    assert.deepEqual(last.json.page_info, {}, "no end_cursor on the last page");
    await h.control("POST", "/fixtures", {
      experiences: [{ id: "exp_ourapp0000001", company_id: COMPANY, app_id: APP_ID, name: "Ours" }],
    });
    const ours = await h.call("GET", `/api/v1/experiences?company_id=${COMPANY}&app_id=${APP_ID}`);
    assert.deepEqual(
      ours.json.data.map((e: { id: string }) => e.id),
      ["exp_ourapp0000001"],
      "app_id filters",
    );
    const none = await h.call("GET", "/api/v1/experiences?company_id=biz_nobody000001");
    assert.deepEqual(none.json, { data: [], page_info: {} });
    const missing = await h.call("GET", "/api/v1/experiences");
    assert.equal(missing.status, 422);
    assert.equal(missing.json.error.code, "invalid_params");
    assert.equal(
      (await h.call("GET", `/api/v1/experiences?company_id=${COMPANY}`, { auth: null })).status,
      401,
    );
    assert.ok((await h.calls("?path=/api/v1/experiences")).length >= 4, "list calls are in the call log");
  });
});

Deno.test("experiences: the app's Whop client reads the list and follows its pages", async () => {
  await withSandbox(async (h) => {
    await h.control("POST", "/fixtures", {
      experiences: [
        ...Array.from(
          { length: 3 },
          (_, i) => ({ id: `exp_client00000${i}`, company_id: COMPANY, app_id: APP_ID }),
        ),
        { id: "exp_otherapp00001", company_id: COMPANY, app_id: "app_someotherapp1" },
      ],
    });
    const client = createWhopClient({ baseUrl: `${h.url}/api/v1`, apiKey: API_KEY, appId: APP_ID });
    const all = await client.listExperiences({ companyId: COMPANY });
    assert.ok(all.ok);
    assert.equal(all.experiences.length, 4, "every app's without ownAppOnly");
    const first = await client.listExperiences({ companyId: COMPANY, ownAppOnly: true, first: 2 });
    assert.ok(first.ok);
    assert.equal(first.experiences.length, 2);
    assert.ok(first.nextCursor);
    const second = await client.listExperiences({
      companyId: COMPANY,
      ownAppOnly: true,
      first: 2,
      after: first.nextCursor,
    });
    assert.ok(second.ok);
    assert.deepEqual(second.experiences.map((e) => e.id), ["exp_client000002"]);
    assert.equal(second.nextCursor, null);
    assert.equal(second.experiences[0].app?.name, "Churn Saver");
    const refused = await client.listExperiences({ companyId: "" });
    assert.ok(!refused.ok && refused.kind === "permanent" && refused.status === 0);
    const noAppId = createWhopClient({ baseUrl: `${h.url}/api/v1`, apiKey: API_KEY });
    const unknownApp = await noAppId.listExperiences({ companyId: COMPANY, ownAppOnly: true });
    assert.ok(!unknownApp.ok && unknownApp.status === 0, "ownAppOnly without an app id is refused");
    assert.equal(
      (await h.calls("?path=/api/v1/experiences")).filter((c) => c.query.app_id === APP_ID).length,
      2,
    );
  });
});

// ---- faults ------------------------------------------------------------------------------------

Deno.test("faults: switched on, the very next matching call fails; switched off, the next one is normal", async () => {
  await withSandbox(async (h) => {
    await seedMembership(h);
    const fault = await h.control("POST", "/faults", {
      method: "POST",
      path: "/api/v1/memberships/*/add_free_days",
      status: 503,
    });
    assert.equal(fault.status, 201);
    assert.match(fault.json.id, /^flt_/);
    // Non-matching calls are unaffected.
    assert.equal((await h.call("GET", `/api/v1/memberships/${MEMBERSHIP}`)).status, 200);
    const failed = await h.call("POST", `/api/v1/memberships/${MEMBERSHIP}/add_free_days`, {
      body: { free_days: 1 },
      headers: { "Idempotency-Key": "k1" },
    });
    assertWhopError(failed, 503, "service_unavailable");
    await expectApiError(h.whop.memberships.addFreeDays(MEMBERSHIP, { free_days: 1 }), 503);

    const listed = await h.control("GET", "/faults");
    assert.equal(listed.json.faults.length, 1);
    assert.equal(listed.json.faults[0].hits, 2);
    assert.equal((await h.control("DELETE", `/faults/${fault.json.id}`)).status, 200);
    assert.equal((await h.control("DELETE", `/faults/${fault.json.id}`)).status, 404);

    // Same idempotency key after the fault: the fault was not cached, so the retry really runs.
    const ok = await h.call("POST", `/api/v1/memberships/${MEMBERSHIP}/add_free_days`, {
      body: { free_days: 1 },
      headers: { "Idempotency-Key": "k1" },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("idempotent-replayed"), null);

    const calls = await h.calls("?path=/api/v1/memberships/*/add_free_days");
    assert.deepEqual(calls.map((c) => [c.status, c.fault_id]), [
      [503, fault.json.id],
      [503, fault.json.id],
      [200, null],
    ]);
  });
});

Deno.test("faults: 429 carries Whop's message, with and without a Retry-After header", async () => {
  await withSandbox(async (h) => {
    await h.control("POST", "/faults", {
      path: "/api/v1/notifications",
      status: 429,
      retry_after_seconds: 7,
      times: 1,
    });
    const bare = await h.call("POST", "/api/v1/notifications", {
      body: { company_id: COMPANY, title: "t", content: "c" },
    });
    assert.equal(bare.status, 429);
    assert.deepEqual(bare.json, {
      error: { type: "rate_limit_exceeded", message: "Try again in 7 seconds." },
    });
    assert.equal(bare.headers.get("retry-after"), null);

    await h.control("POST", "/faults", {
      path: "/api/v1/notifications",
      status: 429,
      retry_after_seconds: 12,
      retry_after_header: true,
      times: 1,
    });
    const err = await expectApiError(
      h.whop.notifications.create({ company_id: COMPANY, title: "t", content: "c" }),
      429,
    );
    assert.equal(err.headers?.get("retry-after"), "12");
    assert.deepEqual(err.error, {
      error: { type: "rate_limit_exceeded", message: "Try again in 12 seconds." },
    });

    // Both faults were single-use: the next call goes through.
    assert.deepEqual(await h.whop.notifications.create({ company_id: COMPANY, title: "t", content: "c" }), {
      success: true,
    });
    assert.deepEqual((await h.control("GET", "/faults")).json.faults, []);
  });
});

Deno.test("faults: latency without a status is a slow success; a client timeout sees it as a timeout", async () => {
  await withSandbox(async (h) => {
    await seedMembership(h);
    const fault = await h.control("POST", "/faults", {
      path: `/api/v1/memberships/${MEMBERSHIP}`,
      latency_ms: 300,
    });
    const slow = await h.call("GET", `/api/v1/memberships/${MEMBERSHIP}`);
    assert.equal(slow.status, 200);
    assert.ok(slow.ms >= 280, `took ${slow.ms} ms`);
    assert.equal(slow.json.id, MEMBERSHIP);

    await assert.rejects(
      h.whop.memberships.retrieve(MEMBERSHIP, { timeout: 100 }),
      APIConnectionTimeoutError,
    );

    await h.control("DELETE", "/faults");
    const fast = await h.call("GET", `/api/v1/memberships/${MEMBERSHIP}`);
    assert.equal(fast.status, 200);
    assert.ok(fast.ms < 250, `took ${fast.ms} ms`);
    const logged = await h.calls(`?path=/api/v1/memberships/${MEMBERSHIP}`);
    assert.equal(logged[0].fault_id, fault.json.id);
    assert.ok(logged[0].duration_ms >= 280);
    // Let the timed-out request finish on the server side before the harness shuts down.
    await new Promise((r) => setTimeout(r, 250));
  });
});

Deno.test("faults: `times` limits a fault to N calls; latency + status delays then fails; custom body", async () => {
  await withSandbox(async (h) => {
    await h.control("POST", "/faults", { path: "/api/v1/dm_channels", status: 500, times: 2 });
    const body = { with_user_ids: [USER] };
    assert.equal((await h.call("POST", "/api/v1/dm_channels", { body })).status, 500);
    assert.equal((await h.call("POST", "/api/v1/dm_channels", { body })).status, 500);
    assert.equal((await h.call("POST", "/api/v1/dm_channels", { body })).status, 200);

    await h.control("POST", "/faults", {
      path: "/api/v1/messages",
      status: 502,
      latency_ms: 150,
      body: "<html>Bad gateway</html>",
      times: 1,
    });
    const bad = await h.call("POST", "/api/v1/messages", { body: { channel_id: "feed_x", content: "x" } });
    assert.equal(bad.status, 502);
    assert.equal(bad.json, "<html>Bad gateway</html>");
    assert.ok(bad.ms >= 140);

    assertWhopError(await h.control("POST", "/faults", { path: "/api/v1/messages" }), 422);
    assertWhopError(await h.control("POST", "/faults", { path: "no-slash", status: 500 }), 422);
  });
});

// ---- idempotency, call log, rate limit ----------------------------------------------------------

Deno.test("idempotency: same key + same path replays (even concurrently); another path is separate", async () => {
  await withSandbox(async (h) => {
    const channel = await h.whop.dmChannels.create({ with_user_ids: [USER] });
    const send = () =>
      h.call("POST", "/api/v1/messages", {
        body: { channel_id: channel.id, content: "Day 0 nudge" },
        headers: { "Idempotency-Key": "nudge-1" },
      });
    const first = await send();
    const second = await send();
    assert.equal(first.status, 200);
    assert.deepEqual(second.json, first.json);
    assert.equal(h.sandbox.state.messages.length, 1);

    // Same key on another path is an unrelated request.
    const note = await h.call("POST", "/api/v1/notifications", {
      body: { company_id: COMPANY, title: "t", content: "c" },
      headers: { "Idempotency-Key": "nudge-1" },
    });
    assert.deepEqual(note.json, { success: true });
    assert.equal(h.sandbox.state.notifications.length, 1);

    // Concurrent duplicates while the first is still running: one effect.
    await seedMembership(h);
    const before = Date.parse((await h.whop.memberships.retrieve(MEMBERSHIP)).renewal_period_end ?? "");
    await h.control("POST", "/faults", {
      path: "/api/v1/memberships/*/add_free_days",
      latency_ms: 100,
      times: 1,
    });
    const race = await Promise.all(
      [1, 2, 3].map(() =>
        h.call("POST", `/api/v1/memberships/${MEMBERSHIP}/add_free_days`, {
          body: { free_days: 2 },
          headers: { "Idempotency-Key": "race" },
        })
      ),
    );
    assert.deepEqual(race.map((r) => r.status), [200, 200, 200]);
    const after = Date.parse((await h.whop.memberships.retrieve(MEMBERSHIP)).renewal_period_end ?? "");
    assert.equal(after - before, 2 * 86_400_000);
  });
});

Deno.test("idempotency ignored (as Whop may): every retry acts again; switched by setting or at start", async () => {
  await withSandbox(async (h) => {
    const seeded = await seedMembership(h);
    const before = Date.parse(seeded.renewal_period_end);
    assert.equal(
      (await h.control("PUT", "/settings", { ignore_idempotency_key: true })).json.ignore_idempotency_key,
      true,
    );
    const grant = () =>
      h.call("POST", `/api/v1/memberships/${MEMBERSHIP}/add_free_days`, {
        body: { free_days: 2 },
        headers: { "Idempotency-Key": "same-key" },
      });
    assert.equal((await grant()).status, 200);
    const again = await grant();
    assert.equal(again.status, 200);
    assert.equal(again.headers.get("idempotent-replayed"), null);
    const after = Date.parse((await h.whop.memberships.retrieve(MEMBERSHIP)).renewal_period_end ?? "");
    assert.equal(after - before, 4 * 86_400_000, "both calls took effect");
    const calls = await h.calls("?path=/api/v1/memberships/*/add_free_days");
    assert.deepEqual(calls.map((c) => [c.idempotency_key, c.idempotent_replay]), [
      ["same-key", false],
      ["same-key", false],
    ], "the key is still logged");

    // Reset goes back to the start setting (honoured here).
    await h.control("POST", "/reset");
    assert.equal((await h.control("GET", "/settings")).json.ignore_idempotency_key, false);
  });
  await withSandbox(async (h) => {
    assert.equal((await h.control("GET", "/settings")).json.ignore_idempotency_key, true);
    const channel = await h.whop.dmChannels.create({ with_user_ids: [USER] });
    for (let i = 0; i < 2; i++) {
      await h.call("POST", "/api/v1/messages", {
        body: { channel_id: channel.id, content: "Day 0 nudge" },
        headers: { "Idempotency-Key": "nudge-1" },
      });
    }
    assert.equal(h.sandbox.state.messages.length, 2);
    await h.control("POST", "/reset");
    assert.equal((await h.control("GET", "/settings")).json.ignore_idempotency_key, true, "kept by reset");
  }, { ignoreIdempotencyKey: true });
});

Deno.test("faults: after_effect lets the call take effect, then delays or replaces its answer", async () => {
  await withSandbox(async (h) => {
    const seeded = await seedMembership(h);
    const before = Date.parse(seeded.renewal_period_end);
    const end = async () =>
      Date.parse((await h.whop.memberships.retrieve(MEMBERSHIP)).renewal_period_end ?? "");

    // A timeout after the effect: the client gives up, Whop has acted.
    const fault = await h.control("POST", "/faults", {
      method: "POST",
      path: "/api/v1/memberships/*/add_free_days",
      after_effect: true,
      latency_ms: 400,
      times: 1,
    });
    assert.equal(fault.json.after_effect, true);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(
      h.call("POST", `/api/v1/memberships/${MEMBERSHIP}/add_free_days`, {
        body: { free_days: 1 },
        signal: controller.signal,
      }),
    );
    assert.equal(await end() - before, 86_400_000, "the days were added although no answer came");

    // A 503 after the effect.
    await h.control("POST", "/faults", {
      method: "POST",
      path: "/api/v1/memberships/*/add_free_days",
      after_effect: true,
      status: 503,
      times: 1,
    });
    const failed = await h.call("POST", `/api/v1/memberships/${MEMBERSHIP}/add_free_days`, {
      body: { free_days: 1 },
    });
    assertWhopError(failed, 503, "service_unavailable");
    assert.equal(await end() - before, 2 * 86_400_000);

    // Without after_effect a fault answers before the handler: no effect.
    await h.control("POST", "/faults", {
      path: "/api/v1/memberships/*/add_free_days",
      status: 503,
      times: 1,
    });
    assertWhopError(
      await h.call("POST", `/api/v1/memberships/${MEMBERSHIP}/add_free_days`, { body: { free_days: 1 } }),
      503,
    );
    assert.equal(await end() - before, 2 * 86_400_000);

    // The timed-out call is logged with its fault once its slow answer is done.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const calls = await h.calls("?path=/api/v1/memberships/*/add_free_days");
    assert.deepEqual(calls.map((c) => c.status).sort(), [200, 503, 503]);
    assert.equal(calls.filter((c) => c.fault_id !== null).length, 3);
  });
});

Deno.test("messages: GET /messages lists a channel's messages newest first with cursors, as the SDK reads them", async () => {
  await withSandbox(async (h) => {
    const channel = await h.whop.dmChannels.create({ with_user_ids: [USER], company_id: COMPANY });
    const other = await h.whop.dmChannels.create({ with_user_ids: ["user_other00000001"] });
    for (let i = 1; i <= 5; i++) await h.whop.messages.create({ channel_id: channel.id, content: `m${i}` });
    await h.whop.messages.create({ channel_id: other.id, content: "elsewhere" });

    const newest = await h.whop.messages.list({ channel_id: channel.id, direction: "desc", first: 2 });
    assert.deepEqual(newest.data.map((m) => m.content), ["m5", "m4"]);
    assert.ok(newest.data.every((m) => typeof m.created_at === "string" && m.user.id));
    assert.ok(newest.page_info.end_cursor);
    const seen: string[] = [];
    for await (const m of h.whop.messages.list({ channel_id: channel.id, direction: "desc", first: 2 })) {
      seen.push(m.content ?? "");
    }
    assert.deepEqual(seen, ["m5", "m4", "m3", "m2", "m1"], "the SDK pages through with `after`");
    const oldest = await h.call("GET", `/api/v1/messages?channel_id=${channel.id}`);
    assert.deepEqual(oldest.json.data.map((m: { content: string }) => m.content), [
      "m1",
      "m2",
      "m3",
      "m4",
      "m5",
    ]);
    assert.deepEqual(oldest.json.page_info, {}, "no end_cursor on the last page");

    assertWhopError(await h.call("GET", "/api/v1/messages?channel_id=feed_nope"), 404, "not_found");
    assertWhopError(await h.call("GET", "/api/v1/messages"), 422, "invalid_params");
  });
});

Deno.test("call log: filters by method and path pattern, skips control calls, resets", async () => {
  await withSandbox(async (h) => {
    await seedMembership(h);
    await h.whop.memberships.retrieve(MEMBERSHIP);
    await h.whop.notifications.create({ company_id: COMPANY, title: "a", content: "b" });
    await h.whop.memberships.addFreeDays(MEMBERSHIP, { free_days: 1 });
    await h.call("GET", "/api/v1/payments/pay_x?expand=foo");

    const all = await h.calls();
    assert.equal(all.length, 4, "control calls are not logged");
    assert.deepEqual(all.map((c) => c.seq), [...all.map((c) => c.seq)].sort((a, b) => a - b));
    assert.deepEqual(all[3].query, { expand: "foo" });
    assert.equal((await h.calls("?method=get")).length, 2);
    assert.equal((await h.calls("?path=/api/v1/memberships/*")).length, 1);
    assert.equal((await h.calls("?path=/api/v1/memberships/**")).length, 2);
    assert.equal((await h.calls("?method=POST&path=/api/v1/notifications")).length, 1);
    assert.equal((await h.calls("?status=404")).length, 1);
    assert.equal((await h.calls(`?since=${all[1].seq}`)).length, 2);

    assert.equal((await h.control("DELETE", "/calls")).status, 200);
    assert.deepEqual(await h.calls(), []);
    await h.whop.memberships.retrieve(MEMBERSHIP);
    const next = await h.calls();
    assert.equal(next.length, 1);
    assert.ok(next[0].seq > all[3].seq);
  });
});

Deno.test("rate limit: off by default; when on, per operation per credential, with Whop's 429", async () => {
  await withSandbox(async (h) => {
    await seedMembership(h);
    for (let i = 0; i < 5; i++) {
      assert.equal((await h.call("GET", `/api/v1/memberships/${MEMBERSHIP}`)).status, 200);
    }

    const set = await h.control("PUT", "/settings", { rate_limit_per_minute: 3 });
    assert.deepEqual(set.json, {
      rate_limit_per_minute: 3,
      rate_limit_retry_after_header: false,
      ignore_idempotency_key: false,
    });
    for (let i = 0; i < 3; i++) {
      assert.equal((await h.call("GET", `/api/v1/memberships/${MEMBERSHIP}`)).status, 200);
    }
    const limited = await h.call("GET", `/api/v1/memberships/${MEMBERSHIP}`);
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error.type, "rate_limit_exceeded");
    assert.match(limited.json.error.message, /^Try again in \d+ seconds\.$/);
    // Another operation has its own budget.
    assert.equal(
      (await h.call("POST", "/api/v1/dm_channels", { body: { with_user_ids: [USER] } })).status,
      200,
    );

    await h.control("PUT", "/settings", { rate_limit_per_minute: null });
    assert.equal((await h.call("GET", `/api/v1/memberships/${MEMBERSHIP}`)).status, 200);
  });
});

// ---- reset, fixtures ---------------------------------------------------------------------------

Deno.test("reset clears calls, faults, fixtures, channels, idempotency cache and settings", async () => {
  await withSandbox(async (h) => {
    await seedMembership(h);
    await h.whop.dmChannels.create({ with_user_ids: [USER] });
    await h.control("POST", "/faults", { path: "/api/v1/notifications", status: 500 });
    await h.control("PUT", "/settings", { rate_limit_per_minute: 100 });
    await h.call("POST", "/api/v1/memberships/" + MEMBERSHIP + "/add_free_days", {
      body: { free_days: 1 },
      headers: { "Idempotency-Key": "x" },
    });
    assert.deepEqual((await h.control("POST", "/reset")).json, { reset: true });

    assert.deepEqual(await h.calls(), []);
    assert.deepEqual((await h.control("GET", "/faults")).json.faults, []);
    const state = (await h.control("GET", "/state")).json;
    assert.deepEqual([state.memberships, state.dm_channels, state.messages, state.notifications], [
      [],
      [],
      [],
      [],
    ]);
    assert.equal(state.settings.rate_limit_per_minute, null);
    assert.equal(h.sandbox.state.idempotency.size, 0);
    await expectApiError(h.whop.memberships.retrieve(MEMBERSHIP), 404);
    assert.deepEqual(await h.whop.notifications.create({ company_id: COMPANY, title: "t", content: "c" }), {
      success: true,
    });
  });
});

Deno.test("fixtures given at start survive reset", async () => {
  await withSandbox(async (h) => {
    assert.equal((await h.whop.memberships.retrieve(MEMBERSHIP)).status, "active");
    await h.control("POST", "/reset");
    assert.equal((await h.whop.memberships.retrieve(MEMBERSHIP)).status, "active");
  }, { fixtures: { memberships: [{ id: MEMBERSHIP, user_id: USER, company_id: COMPANY }] } });
});

// ---- JWKS and user tokens ----------------------------------------------------------------------

Deno.test("jwks: a minted x-whop-user-token verifies with jose against the sandbox's JWKS", async () => {
  await withSandbox(async (h) => {
    const jwksRes = await h.call("GET", "/.well-known/jwks.json", { auth: null });
    assert.equal(jwksRes.status, 200);
    const [key] = jwksRes.json.keys;
    assert.equal(key.alg, "ES256");
    assert.equal(key.use, "sig");
    assert.equal(key.kty, "EC");
    assert.equal(key.crv, "P-256");
    assert.equal(typeof key.kid, "string");
    assert.equal(key.d, undefined, "never publish the private part");

    const jwks = createRemoteJWKSet(new URL(`${h.url}/.well-known/jwks.json`));
    const minted = await h.control("POST", "/user-token", { user_id: USER });
    assert.equal(minted.status, 200);
    const { payload, protectedHeader } = await jwtVerify(minted.json.token, jwks, {
      issuer: "urn:whopcom:exp-proxy",
      audience: APP_ID,
      algorithms: ["ES256"],
    });
    assert.equal(payload.sub, USER);
    assert.equal(protectedHeader.kid, key.kid);

    const expired = await h.control("POST", "/user-token", { user_id: USER, expires_in_seconds: -120 });
    await assert.rejects(
      jwtVerify(expired.json.token, jwks, { issuer: "urn:whopcom:exp-proxy", audience: APP_ID }),
    );
    const otherApp = await h.control("POST", "/user-token", { user_id: USER, app_id: "app_someoneelse01" });
    await assert.rejects(
      jwtVerify(otherApp.json.token, jwks, { issuer: "urn:whopcom:exp-proxy", audience: APP_ID }),
    );
    const otherIssuer = await h.control("POST", "/user-token", { user_id: USER, issuer: "urn:evil" });
    await assert.rejects(
      jwtVerify(otherIssuer.json.token, jwks, { issuer: "urn:whopcom:exp-proxy", audience: APP_ID }),
    );
    const forged = await h.control("POST", "/user-token", { user_id: USER, untrusted_key: true });
    await assert.rejects(
      jwtVerify(forged.json.token, jwks, { issuer: "urn:whopcom:exp-proxy", audience: APP_ID }),
    );

    // In-process helper gives the same kind of token.
    const direct = await h.sandbox.mintUserToken({ userId: "user_direct0000001" });
    assert.equal((await jwtVerify(direct, jwks, { audience: APP_ID })).payload.sub, "user_direct0000001");
  });
});

// ---- webhooks ----------------------------------------------------------------------------------

interface Received {
  headers: Headers;
  body: string;
  verified: boolean;
}

/** A tiny webhook endpoint that verifies signatures with the project's sign functions. */
async function withReceiver(fn: (url: string, received: Received[]) => Promise<void>, secret = SECRET) {
  const received: Received[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const body = await req.text();
    let verified = false;
    const standard = req.headers.get("webhook-signature");
    const legacy = req.headers.get("x-whop-signature");
    if (standard) {
      const id = req.headers.get("webhook-id") ?? "";
      const ts = req.headers.get("webhook-timestamp") ?? "";
      const fresh = Math.abs(Date.now() / 1000 - Number(ts)) <= 300;
      const expected = await signStandardWebhook({ secret, id, timestamp: ts, body });
      verified = fresh && standard.split(" ").includes(expected);
    } else if (legacy) {
      const t = /t=(\d+)/.exec(legacy)?.[1] ?? "";
      const fresh = Math.abs(Date.now() / 1000 - Number(t)) <= 300;
      verified = fresh && (await signLegacyWebhook({ secret, timestamp: t, body })) === legacy;
    }
    received.push({ headers: req.headers, body, verified });
    return verified
      ? Response.json({ ok: true })
      : Response.json({ error: "bad signature" }, { status: 401 });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/functions/v1/whop-webhook`, received);
  } finally {
    await server.shutdown();
  }
}

Deno.test("webhooks: v1 delivery is signed over the exact raw body with Standard Webhooks headers", async () => {
  await withReceiver(async (target, received) => {
    await withSandbox(async (h) => {
      const payload = paymentEvent("payment.failed", {
        companyId: COMPANY,
        membershipId: MEMBERSHIP,
        userId: USER,
        amount: 29.99,
        currency: "usd",
      });
      const res = await h.control("POST", "/webhooks", { payload });
      assert.equal(res.status, 200);
      assert.equal(res.json.id, payload.id);
      assert.equal(res.json.status, 200);
      assert.deepEqual(res.json.body, { ok: true });

      assert.equal(received.length, 1);
      const got = received[0];
      assert.ok(got.verified);
      assert.equal(got.headers.get("webhook-id"), payload.id);
      assert.match(got.headers.get("webhook-timestamp") ?? "", /^\d{10}$/);
      assert.match(got.headers.get("webhook-signature") ?? "", /^v1,[A-Za-z0-9+/]+=*$/);
      assert.equal(got.headers.get("content-type"), "application/json");
      assert.equal(got.body, JSON.stringify(payload));

      // The webhook registered the membership in the REST state, as on Whop.
      const m = await h.whop.memberships.retrieve(MEMBERSHIP);
      assert.equal(m.status, "past_due");
      assert.equal(m.user?.id, USER);
      assert.equal((await h.whop.payments.retrieve(payload.data.id)).substatus, "failed");

      // type + data builds the envelope; the delivery log keeps both.
      const built = await h.control("POST", "/webhooks", {
        type: "membership.cancel_at_period_end_changed",
        data: membershipEvent("membership.cancel_at_period_end_changed", {
          membershipId: MEMBERSHIP,
          companyId: COMPANY,
        }).data,
      });
      assert.equal(built.json.status, 200);
      const envelope = JSON.parse(received[1].body);
      assert.equal(envelope.api_version, "v1");
      assert.equal(envelope.type, "membership.cancel_at_period_end_changed");
      assert.equal(envelope.company_id, COMPANY);
      assert.equal(envelope.id, received[1].headers.get("webhook-id"));
      const log = (await h.control("GET", "/webhooks")).json.deliveries;
      assert.equal(log.length, 2);
      assert.equal(log[0].status, 200);
      assert.equal(log[0].raw_body, JSON.stringify(payload));
    }, { webhookTargetUrl: target });
  });
});

Deno.test("webhooks: legacy delivery carries x-whop-signature over the raw body", async () => {
  await withReceiver(async (target, received) => {
    await withSandbox(async (h) => {
      const payload = legacyEvent("payment.failed", {
        membershipId: MEMBERSHIP,
        userId: USER,
        companyId: COMPANY,
      });
      const res = await h.control("POST", "/webhooks", { payload, format: "legacy", target_url: target });
      assert.equal(res.json.status, 200);
      const got = received[0];
      assert.ok(got.verified);
      assert.match(got.headers.get("x-whop-signature") ?? "", /^t=\d+,v1=[0-9a-f]{64}$/);
      assert.equal(got.headers.get("webhook-signature"), null);
      assert.deepEqual(JSON.parse(got.body), payload);

      const built = await h.control("POST", "/webhooks", {
        type: "membership.went_valid",
        data: { membership_id: MEMBERSHIP },
        format: "legacy",
        target_url: target,
      });
      assert.equal(built.json.status, 200);
      assert.deepEqual(JSON.parse(received[1].body), {
        action: "membership.went_valid",
        api_version: "v5",
        data: { membership_id: MEMBERSHIP },
      });
    });
  });
});

Deno.test("webhooks: wrong secret, stale timestamp and unsigned deliveries are rejected by a verifier", async () => {
  await withReceiver(async (target, received) => {
    await withSandbox(async (h) => {
      const payload = paymentEvent("payment.succeeded", { companyId: COMPANY });
      const wrong = await h.control("POST", "/webhooks", { payload, target_url: target, secret: "ws_wrong" });
      assert.equal(wrong.json.status, 401);
      const stale = await h.control("POST", "/webhooks", {
        payload,
        target_url: target,
        timestamp: Math.floor(Date.now() / 1000) - 3600,
      });
      assert.equal(stale.json.status, 401);
      const unsigned = await h.control("POST", "/webhooks", { payload, target_url: target, sign: false });
      assert.equal(unsigned.json.status, 401);
      assert.equal(received[2].headers.get("webhook-signature"), null);
      const raw = await h.control("POST", "/webhooks", { raw_body: "{oops", type: "x", target_url: target });
      assert.equal(raw.json.status, 200, "a correctly signed body is accepted by the signature check");
      assert.equal(received[3].body, "{oops");
      assert.deepEqual(received.map((r) => r.verified), [false, false, false, true]);

      // Unreachable target: the control call still answers, with the error.
      const dead = await h.control("POST", "/webhooks", { payload, target_url: "http://127.0.0.1:9/x" });
      assert.equal(dead.status, 200);
      assert.equal(dead.json.status, null);
      assert.equal(typeof dead.json.error, "string");
      assertWhopError(await h.control("POST", "/webhooks", { target_url: target }), 422);
    });
  });
});

Deno.test("webhooks: with several configured secrets the first one signs", async () => {
  await withReceiver(async (target, received) => {
    await withSandbox(async (h) => {
      const res = await h.control("POST", "/webhooks", { payload: membershipEvent("membership.activated") });
      assert.equal(res.json.status, 200);
      assert.ok(received[0].verified);
    }, { webhookSecret: `${SECRET},ws_older_secret`, webhookTargetUrl: target });
  });
});

// ---- payload builders --------------------------------------------------------------------------

Deno.test("payload builders produce Whop's real shapes", () => {
  const failed = paymentEvent("payment.failed", {
    companyId: COMPANY,
    membershipId: MEMBERSHIP,
    userId: USER,
    amount: 19.5,
    currency: "eur",
    usdTotal: 21.1,
    eventId: "msg_fixed",
    timestamp: "2026-07-01T12:00:00.000Z",
  });
  assert.deepEqual(Object.keys(failed), ["id", "api_version", "type", "timestamp", "company_id", "data"]);
  assert.equal(failed.id, "msg_fixed");
  assert.equal(failed.company_id, COMPANY);
  const d = failed.data;
  assert.match(d.id, /^pay_[A-Za-z0-9]{14}$/);
  assert.equal(d.status, "open");
  assert.equal(d.substatus, "failed");
  assert.equal(d.total, 19.5);
  assert.equal(d.usd_total, 21.1);
  assert.equal(d.currency, "eur");
  assert.equal(d.membership?.id, MEMBERSHIP);
  assert.equal(d.membership?.status, "past_due");
  assert.equal(d.user?.id, USER);
  assert.ok(d.user?.email && d.user.username);
  assert.equal(d.company?.id, COMPANY);
  assert.match(d.product?.id ?? "", /^prod_/);
  assert.match(d.plan?.id ?? "", /^plan_/);
  // Not in the SDK's Payment type nor the docs example (WHOP.md 1.1): absent unless asked for.
  assert.equal("recovery_url" in d, false);
  const withUrl = paymentEvent("payment.failed", { recoveryUrl: "https://whop.com/pay/x" }).data;
  assert.equal(withUrl.recovery_url, "https://whop.com/pay/x");
  assert.equal(d.payments_failed, 1);
  assert.equal(d.retryable, true);
  assert.ok(d.failure_message);

  const oneTime = paymentEvent("payment.failed", { membershipId: null, recoveryUrl: null });
  assert.equal(oneTime.data.membership, null);
  assert.equal("recovery_url" in oneTime.data, false);

  const ok = paymentEvent("payment.succeeded", { apiVersionDate: "2026-08-14" });
  assert.equal(ok.data.substatus, "succeeded");
  assert.equal(ok.company_id, undefined);
  assert.equal(typeof ok.account_id, "string");
  assert.equal(ok.api_version_date, "2026-08-14");

  const cancel = membershipEvent("membership.cancel_at_period_end_changed", {
    membershipId: MEMBERSHIP,
    cancelOption: "too_expensive",
  });
  assert.equal(cancel.data.cancel_at_period_end, true);
  assert.equal(cancel.data.manage_url, `https://whop.com/billing/manage/${MEMBERSHIP}`);
  assert.equal(cancel.data.cancel_option, "too_expensive");
  const updated = membershipEvent("membership.updated", { previousAttributes: { status: "past_due" } });
  assert.deepEqual(updated.previous_attributes, { status: "past_due" });

  const legacy = legacyEvent("payment.failed", { membershipId: MEMBERSHIP, amount: 10 });
  assert.deepEqual(Object.keys(legacy), ["action", "api_version", "data"]);
  assert.equal(legacy.api_version, "v5");
  assert.equal(legacy.data.membership_id, MEMBERSHIP);
  assert.equal(legacy.data.final_amount, 10);
  assert.equal(typeof legacy.data.created_at, "number");
  const went = legacyEvent("membership.went_invalid", { membershipId: MEMBERSHIP });
  assert.equal(went.data.id, MEMBERSHIP);
  assert.equal(went.data.valid, false);
});

Deno.test("jwks: a fixed private JWK is used as given (stable kid across restarts)", async () => {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid: "sandbox-fixed-key" };
  await withSandbox(async (h) => {
    const jwks = await h.call("GET", "/.well-known/jwks.json", { auth: null });
    assert.equal(jwks.json.keys[0].kid, "sandbox-fixed-key");
    assert.equal(jwks.json.keys[0].x, privateJwk.x);
    assert.equal(jwks.json.keys[0].d, undefined);
    const { token } = (await h.control("POST", "/user-token", { user_id: USER })).json;
    const verified = await jwtVerify(token, createRemoteJWKSet(new URL(`${h.url}/.well-known/jwks.json`)), {
      issuer: "urn:whopcom:exp-proxy",
      audience: APP_ID,
    });
    assert.equal(verified.payload.sub, USER);
  }, { privateJwk });
});
