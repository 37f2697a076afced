// Error reporting: with SENTRY_DSN set, a request that fails on our side reaches Sentry (here a fake
// ingest on 127.0.0.1) as an envelope before its answer is returned, without the member's email, the
// user's token, cookies or secrets; a slow Sentry delays the answer by at most the flush timeout;
// normal answers send nothing; without SENTRY_DSN nothing is ever sent.
import assert from "node:assert/strict";
import { SENTRY_FLUSH_TIMEOUT_MS } from "../../supabase/functions/_shared/sentry.ts";
import { createApp as createDashboard } from "../../web/app.ts";
import { paymentEvent } from "../../whop-sandbox/payloads.ts";
import { adminToken } from "../support/dashboard.ts";
import { sandbox } from "../support/dispatch.ts";
import { startFakeSentry } from "../support/fake_sentry.ts";
import { connectAsOwner, dashboardEnv, unreachableDatabaseUrl } from "../support/stack.ts";
import { signedRequest, uniqueCompany, webhookSecret, withWebhookApp } from "../support/webhooks.ts";

const ACCESS_PATH = "/api/v1/users/*/access/*";

/** A dashboard page for an admin while Whop fails the access check: answered 503, reported. */
async function failingDashboardRequest(sentryDsn: string | undefined) {
  const sql = connectAsOwner();
  const companyId = uniqueCompany("sentry");
  await sql`insert into public.companies (company_id, title) values (${companyId}, 'Sentry Academy')`;
  await sql.end();
  const { token } = await adminToken(companyId);
  const email = `sentry.${crypto.randomUUID().slice(0, 8)}@example.org`;
  const { app, close } = await createDashboard(dashboardEnv(sentryDsn ? { SENTRY_DSN: sentryDsn } : {}));
  try {
    await sandbox.fault({ method: "GET", path: ACCESS_PATH, status: 500, times: 1 });
    const started = Date.now();
    const response = await app.fetch(
      new Request(`http://dashboard/dashboard/${companyId}/cases?q=${encodeURIComponent(email)}`, {
        headers: {
          "x-whop-user-token": token,
          cookie: `whop_dev_token=${token}`,
          accept: "application/json",
        },
      }),
    );
    await response.body?.cancel();
    return { status: response.status, answeredAt: Date.now(), elapsed: Date.now() - started, token, email };
  } finally {
    await sandbox.clearFaults();
    await close();
  }
}

Deno.test("a dashboard error reaches Sentry before the answer, without token, cookie or email", async () => {
  const sentry = startFakeSentry();
  try {
    const result = await failingDashboardRequest(sentry.dsn);
    assert.equal(result.status, 503);
    assert.equal(sentry.envelopes.length, 1, "one envelope, received before the answer was returned");
    const [envelope] = sentry.envelopes;
    assert.ok(envelope.at <= result.answeredAt);
    assert.match(envelope.path, /^\/api\/1\/envelope\/$/);
    assert.match(sentry.exceptionMessages()[0], /Whop did not confirm your access/);
    assert.match(envelope.raw, /"service":"dashboard"/);
    assert.match(envelope.raw, /"http\.route":"\/dashboard\/:companyId\//, "the route pattern, not the path");
    assert.match(envelope.raw, /"runtime":\{"name":"deno"/);
    for (const [what, value] of Object.entries({ token: result.token, email: result.email })) {
      assert.ok(!envelope.raw.includes(value), `the envelope carries no ${what}`);
    }
    for (const forbidden of ["x-whop-user-token", "cookie", "whop_dev_token", "example.org", "eyJ"]) {
      assert.ok(!envelope.raw.toLowerCase().includes(forbidden.toLowerCase()), `no ${forbidden}`);
    }
  } finally {
    await sentry.close();
  }
});

Deno.test("a webhook that cannot be stored is reported without the payload or the signature", async () => {
  const sentry = startFakeSentry();
  try {
    const email = `webhook.${crypto.randomUUID().slice(0, 8)}@example.org`;
    const name = `Grace Sentrytest${crypto.randomUUID().slice(0, 6)}`;
    await withWebhookApp(async ({ send }) => {
      const companyId = uniqueCompany("sentryhook");
      const request = await signedRequest(
        paymentEvent("payment.failed", { companyId, email, name, userId: `user_${companyId.slice(4)}` }),
      );
      const signature = request.headers.get("webhook-signature")!;
      const answer = await send(request);
      assert.equal(answer.status, 503);
      assert.equal(sentry.envelopes.length, 1);
      const raw = sentry.envelopes[0].raw;
      for (const leaked of [email, name, signature.split(",")[1], webhookSecret(), "webhook-signature"]) {
        assert.ok(!raw.includes(leaked), `the envelope does not carry ${leaked.slice(0, 12)}...`);
      }
      assert.match(raw, /"service":"whop-webhook"/);
    }, { SUPABASE_DB_URL: unreachableDatabaseUrl(), SENTRY_DSN: sentry.dsn, WEBHOOK_DB_TIMEOUT_MS: "500" });
  } finally {
    await sentry.close();
  }
});

Deno.test("a slow Sentry holds an error answer up by at most the flush timeout", async () => {
  const sentry = startFakeSentry({ delayMs: 15_000 });
  try {
    const result = await failingDashboardRequest(sentry.dsn);
    assert.equal(result.status, 503);
    assert.equal(sentry.envelopes.length, 1);
    assert.ok(
      result.elapsed < SENTRY_FLUSH_TIMEOUT_MS + 1500,
      `answered in ${result.elapsed} ms (flush timeout ${SENTRY_FLUSH_TIMEOUT_MS} ms)`,
    );
  } finally {
    await sentry.close();
  }
});

Deno.test("normal answers send nothing and wait for nothing; without SENTRY_DSN errors send nothing", async () => {
  const sentry = startFakeSentry({ delayMs: 15_000 });
  try {
    const { app, close } = await createDashboard(dashboardEnv({ SENTRY_DSN: sentry.dsn }));
    try {
      const started = Date.now();
      for (let i = 0; i < 20; i++) {
        const response = await app.fetch(new Request("http://dashboard/api/health"));
        await response.body?.cancel();
        assert.ok(response.status < 500);
        const missing = await app.fetch(new Request("http://dashboard/no-such-page"));
        assert.equal(missing.status, 404);
        await missing.body?.cancel();
      }
      assert.ok(Date.now() - started < SENTRY_FLUSH_TIMEOUT_MS, "no request waited for Sentry");
    } finally {
      await close();
    }
    assert.equal(sentry.envelopes.length, 0, "health checks and 404s are not errors of ours");

    // A health check answering 503 on purpose (its database is down) is not reported either.
    const down = await createDashboard(
      dashboardEnv({ SENTRY_DSN: sentry.dsn, DATABASE_URL: unreachableDatabaseUrl() }),
    );
    try {
      const response = await down.app.fetch(new Request("http://dashboard/api/health/db"));
      await response.body?.cancel();
      assert.equal(response.status, 503);
    } finally {
      await down.close();
    }
    assert.equal(sentry.envelopes.length, 0, "a health check's 503 is its answer, not an error");

    const result = await failingDashboardRequest(undefined);
    assert.equal(result.status, 503);
    assert.equal(sentry.envelopes.length, 0, "nothing is sent without SENTRY_DSN");
  } finally {
    await sentry.close();
  }
});
