// The tracked recovery link end to end: tokens built the way the dispatcher builds them, followed
// through the running dashboard (GET /r/<token>) into link_clicks and the case's attribution.
import assert from "node:assert/strict";
import {
  createRecoveryLinkToken,
  RECOVERY_LINK_TTL_SECONDS,
} from "../../supabase/functions/_shared/links.ts";
import { hmacSha256, toHex } from "../../supabase/functions/_shared/whop/webhook_signature.ts";
import { createApp as createDashboardApp } from "../../web/app.ts";
import { connectAsOwner, dashboardEnv, stack, stackVar, unreachableDatabaseUrl } from "../support/stack.ts";

const BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " +
  "Chrome/124.0.0.0 Safari/537.36";
const MEMBER_IP = "203.0.113.77";

interface CaseUrls {
  recovery_url: string | null;
  manage_url: string | null;
}

interface ClickRow {
  company_id: string;
  job_id: string | null;
  ip_hash: string | null;
  is_bot: boolean;
}

/** A company of its own with one case per destination shape, deleted afterwards. */
async function withCompany(
  fn: (ctx: {
    sql: ReturnType<typeof connectAsOwner>;
    companyId: string;
    openCase: (urls: CaseUrls) => Promise<string>;
    addJob: (caseId: string) => Promise<number>;
    clicks: (caseId: string) => Promise<ClickRow[]>;
  }) => Promise<void>,
) {
  const sql = connectAsOwner();
  const companyId = `biz_link${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  await sql`insert into public.companies (company_id, title) values (${companyId}, 'Link test')`;
  let n = 0;
  try {
    await fn({
      sql,
      companyId,
      openCase: async (urls) => {
        const [row] = await sql<{ id: string }[]>`
          insert into public.recovery_cases (company_id, membership_id, reason, opened_at, recovery_url, manage_url)
          values (${companyId}, ${`mem_link_${++n}`}, 'payment_failed', now() - interval '1 hour',
                  ${urls.recovery_url}, ${urls.manage_url})
          returning id`;
        return row.id;
      },
      addJob: async (caseId) => {
        const [row] = await sql<{ id: string }[]>`
          insert into public.job_queue (case_id, company_id, channel, step, scheduled_for)
          values (${caseId}, ${companyId}, 'push', 0, now() - interval '1 hour') returning id`;
        return Number(row.id);
      },
      clicks: (caseId) =>
        sql<ClickRow[]>`select company_id, job_id::text, ip_hash, is_bot from public.link_clicks
                        where case_id = ${caseId} order by id`,
    });
  } finally {
    await sql`delete from public.companies where company_id = ${companyId}`;
    await sql.end();
  }
}

function token(caseId: string, options: { jobId?: number | null; expiresAt?: number; key?: string } = {}) {
  return createRecoveryLinkToken(
    {
      caseId,
      jobId: options.jobId ?? null,
      expiresAt: options.expiresAt ?? Math.floor(Date.now() / 1000) + RECOVERY_LINK_TTL_SECONDS,
    },
    options.key ?? stackVar("LINK_SIGNING_KEY"),
  );
}

async function follow(
  linkToken: string,
  init: { method?: string; userAgent?: string | null; accept?: string; ip?: string } = {},
) {
  const headers = new Headers({ "x-forwarded-for": `${init.ip ?? MEMBER_IP}, 10.0.0.1` });
  // Deno's fetch sends "Deno/<version>" unless told otherwise, which is (rightly) a bot.
  if (init.userAgent !== null) headers.set("user-agent", init.userAgent ?? BROWSER);
  if (init.accept) headers.set("accept", init.accept);
  const response = await fetch(`${stack.dashboardUrl}/r/${linkToken}`, {
    method: init.method ?? "GET",
    headers,
    redirect: "manual",
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

Deno.test("a member's click is recorded and sent to the payment's recovery_url", async () => {
  await withCompany(async ({ companyId, openCase, addJob, clicks }) => {
    const caseId = await openCase({
      recovery_url: "https://whop.com/checkout/recover?payment=pay_1",
      manage_url: "https://whop.com/orders/mem_1",
    });
    const jobId = await addJob(caseId);
    const answer = await follow(await token(caseId, { jobId }));

    assert.equal(answer.status, 302);
    assert.equal(answer.headers.get("location"), "https://whop.com/checkout/recover?payment=pay_1");
    assert.equal(answer.headers.get("cache-control"), "no-store");
    assert.equal(answer.headers.get("referrer-policy"), "no-referrer");
    assert.equal(answer.headers.get("x-content-type-options"), "nosniff");

    const rows = await clicks(caseId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].company_id, companyId);
    assert.equal(rows[0].job_id, String(jobId));
    assert.equal(rows[0].is_bot, false);
    assert.match(rows[0].ip_hash ?? "", /^[0-9a-f]{32}$/);
    // The keyed hash of the address, and nothing else of it.
    const expected = toHex(await hmacSha256(stackVar("LINK_SIGNING_KEY"), MEMBER_IP)).slice(0, 32);
    assert.equal(rows[0].ip_hash, expected, "only the keyed hash of the address is stored");
  });
});

Deno.test("the same address hashes alike, another one differently", async () => {
  await withCompany(async ({ openCase, clicks }) => {
    const caseId = await openCase({ recovery_url: "https://whop.com/r", manage_url: null });
    const linkToken = await token(caseId);
    for (const ip of [MEMBER_IP, MEMBER_IP, "198.51.100.3"]) {
      assert.equal((await follow(linkToken, { ip })).status, 302);
    }
    const hashes = (await clicks(caseId)).map((row) => row.ip_hash);
    assert.equal(hashes.length, 3);
    assert.equal(hashes[0], hashes[1]);
    assert.notEqual(hashes[0], hashes[2]);
  });
});

Deno.test("without a recovery_url the member goes to the membership's manage_url", async () => {
  await withCompany(async ({ openCase, clicks }) => {
    const caseId = await openCase({ recovery_url: null, manage_url: "https://whop.com/orders/mem_2" });
    const answer = await follow(await token(caseId));
    assert.equal(answer.status, 302);
    assert.equal(answer.headers.get("location"), "https://whop.com/orders/mem_2");
    const rows = await clicks(caseId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].job_id, null);
  });
});

Deno.test("a link preview is redirected too, but its click is flagged as a bot", async () => {
  await withCompany(async ({ openCase, clicks }) => {
    const caseId = await openCase({ recovery_url: "https://whop.com/pay", manage_url: null });
    const linkToken = await token(caseId);
    for (const userAgent of ["Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", null]) {
      const answer = await follow(linkToken, { userAgent });
      assert.equal(answer.status, 302);
      assert.equal(answer.headers.get("location"), "https://whop.com/pay");
    }
    const rows = await clicks(caseId);
    assert.deepEqual(rows.map((row) => row.is_bot), [true, true]);
  });
});

Deno.test("HEAD answers like GET and records nothing", async () => {
  await withCompany(async ({ openCase, clicks }) => {
    const caseId = await openCase({ recovery_url: "https://whop.com/pay", manage_url: null });
    const answer = await follow(await token(caseId), { method: "HEAD" });
    assert.equal(answer.status, 302);
    assert.equal(answer.headers.get("location"), "https://whop.com/pay");
    assert.equal(answer.headers.get("referrer-policy"), "no-referrer");
    assert.equal((await clicks(caseId)).length, 0);
  });
});

Deno.test("a tampered or foreign link is 400 invalid_link and records nothing", async () => {
  await withCompany(async ({ openCase, clicks }) => {
    const caseId = await openCase({ recovery_url: "https://whop.com/pay", manage_url: null });
    const good = await token(caseId);
    const [payload, mac] = good.split(".");
    const flipped = mac[0] === "A" ? "B" : "A";
    for (
      const bad of [
        `${payload}.${flipped}${mac.slice(1)}`,
        await token(caseId, { key: "not the signing key" }),
        "not-a-token",
        `${good}x`,
      ]
    ) {
      const answer = await follow(bad);
      assert.equal(answer.status, 400, bad);
      assert.equal(JSON.parse(answer.text).error.code, "invalid_link");
    }
    const html = await follow(`${payload}.${flipped}${mac.slice(1)}`, { accept: "text/html" });
    assert.equal(html.status, 400);
    assert.match(html.headers.get("content-type") ?? "", /text\/html/);
    assert.match(html.text, /Whop/);
    assert.equal((await clicks(caseId)).length, 0);
  });
});

Deno.test("an expired link is 410: a friendly page for browsers, JSON otherwise", async () => {
  await withCompany(async ({ openCase, clicks }) => {
    const caseId = await openCase({ recovery_url: "https://whop.com/pay", manage_url: null });
    const expired = await token(caseId, { expiresAt: Math.floor(Date.now() / 1000) - 60 });

    const json = await follow(expired, { accept: "application/json" });
    assert.equal(json.status, 410);
    assert.equal(JSON.parse(json.text).error.code, "link_expired");

    const html = await follow(expired, {
      accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    });
    assert.equal(html.status, 410);
    assert.match(html.headers.get("content-type") ?? "", /text\/html/);
    assert.match(html.text, /This link has expired — open the Whop app to manage your membership/);
    assert.equal((await clicks(caseId)).length, 0);
  });
});

Deno.test("a valid link to an unknown case, or to nowhere usable, is 404", async () => {
  await withCompany(async ({ sql, openCase, clicks }) => {
    const unknown = await follow(await token(crypto.randomUUID()));
    assert.equal(unknown.status, 404);
    assert.match(JSON.parse(unknown.text).error.message, /Open Whop, go to your memberships/);

    const page = await follow(await token(crypto.randomUUID()), { accept: "text/html" });
    assert.equal(page.status, 404);
    assert.match(page.text, /Open Whop, go to your memberships/);

    // A member whose case has no destination reads the creator's name, not ours, and a way into Whop.
    const nowhere = await openCase({ recovery_url: null, manage_url: null });
    const memberPage = await follow(await token(nowhere), { accept: "text/html" });
    assert.equal(memberPage.status, 404);
    assert.match(memberPage.text, /Link test/);
    assert.match(memberPage.text, /href="https:\/\/whop\.com\/"[^>]*>Open Whop</);
    assert.doesNotMatch(memberPage.text, /Churn Saver/);
    const [seen] = await sql`select led_nowhere from public.link_clicks where case_id = ${nowhere}`;
    assert.equal(seen.led_nowhere, true, "the case's timeline can say the member found nowhere to go");

    // Stored junk is never redirected to.
    const junk = await openCase({ recovery_url: "javascript:alert(1)", manage_url: "ftp://whop.com/x" });
    const answer = await follow(await token(junk));
    assert.equal(answer.status, 404);
    assert.equal(answer.headers.get("location"), null);
    assert.equal((await clicks(junk)).length, 1, "the click itself is still recorded");
  });
});

Deno.test("a person's click makes a later recovery click-through; a bot's alone does not", async () => {
  await withCompany(async ({ sql, openCase }) => {
    const human = await openCase({ recovery_url: "https://whop.com/pay", manage_url: null });
    const bot = await openCase({ recovery_url: "https://whop.com/pay", manage_url: null });
    assert.equal((await follow(await token(human))).status, 302);
    assert.equal((await follow(await token(bot), { userAgent: "facebookexternalhit/1.1" })).status, 302);

    const [row] = await sql<{ human: string; bot: string; before: string }[]>`
      select private.case_attribution(${human}::uuid, now()) as human,
             private.case_attribution(${bot}::uuid, now()) as bot,
             private.case_attribution(${human}::uuid, now() - interval '1 hour') as before`;
    assert.deepEqual({ ...row }, { human: "click_through", bot: "organic", before: "organic" });
  });
});

Deno.test("with the database down a valid link answers 503, never 500", async () => {
  const { app, close } = await createDashboardApp(
    dashboardEnv({ DATABASE_URL: unreachableDatabaseUrl(), APP_ENV: "production", LINK_SIGNING_KEY: "k" }),
  );
  try {
    const linkToken = await token(crypto.randomUUID(), { key: "k" });
    for (const accept of ["application/json", "text/html"]) {
      const started = performance.now();
      const response = await app.fetch(
        new Request(`http://dashboard/r/${linkToken}`, { headers: { accept, "user-agent": BROWSER } }),
      );
      const text = await response.text();
      assert.ok(performance.now() - started < 6000, "answered in time");
      assert.equal(response.status, 503, accept);
      assert.ok(response.headers.get("retry-after"));
      assert.match(text, /try again/i);
    }
  } finally {
    await close();
  }
});

Deno.test("the dashboard refuses to start without LINK_SIGNING_KEY", async () => {
  const env = dashboardEnv();
  env.delete("LINK_SIGNING_KEY");
  await assert.rejects(() => createDashboardApp(env), /Missing required configuration: LINK_SIGNING_KEY/);
});
