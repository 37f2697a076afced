// Acceptance: an end-to-end run's logs contain no email, name, token or secret. A stack of its own
// (scripts/stack.ts: functions gateway, dashboard, Whop sandbox, with Sentry pointed at a local fake
// ingest) against the test database runs the whole flow with distinctive member data: a signed
// webhook (and a forged one) → a case → nudges dispatched through the sandbox → the tracked link →
// dashboard page views and an email search as the company's admin → a request that fails on our
// side. Then every log file, the runner's own output and every Sentry envelope are scanned.
import assert from "node:assert/strict";
import { paymentEvent } from "../../whop-sandbox/payloads.ts";
import { DevScript, freePort } from "../support/dev_script.ts";
import { isolateQueue } from "../support/dispatch.ts";
import { startFakeSentry } from "../support/fake_sentry.ts";
import { connectAsOwner, stackVar } from "../support/stack.ts";
import { enableEverything, signedRequest, uniqueCompany } from "../support/webhooks.ts";

const root = new URL("../../", import.meta.url).pathname; // test-artifacts/logs lives here
const SECRET_NAMES = [
  "WHOP_WEBHOOK_SECRET",
  "WHOP_API_KEY",
  "OPS_TOKEN",
  "CRON_SECRET",
  "ENCRYPTION_KEYS",
  "LINK_SIGNING_KEY",
];

/** Each `needle` found in each text, as "label in source". */
function findLeaks(texts: Map<string, string>, needles: Record<string, string>): string[] {
  const leaks: string[] = [];
  for (const [source, text] of texts) {
    const lower = text.toLowerCase();
    for (const [label, needle] of Object.entries(needles)) {
      if (needle && lower.includes(needle.toLowerCase())) leaks.push(`${label} in ${source}`);
    }
  }
  return leaks;
}

/** The secrets of the stack, each key of a list on its own (a key ring's keys without their ids). */
function stackSecrets(): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const name of SECRET_NAMES) {
    stackVar(name).split(",").forEach((part, index) => {
      const value = name === "ENCRYPTION_KEYS" ? part.slice(part.indexOf(":") + 1) : part;
      secrets[`${name}[${index}]`] = value.trim();
    });
  }
  return secrets;
}

interface OwnStack {
  dashboardUrl: string;
  functionsUrl: string;
  sandboxUrl: string;
  logsDir: string;
  output: () => string;
  stop: () => Promise<void>;
}

async function startOwnStack(extraEnv: Record<string, string>): Promise<OwnStack> {
  const logsDir = await Deno.makeTempDir({ prefix: "churn-saver-log-privacy-" });
  const [functionsPort, dashboardPort, sandboxPort] = [freePort(), freePort(), freePort()];
  const functionsUrl = `http://127.0.0.1:${functionsPort}/functions/v1`;
  const dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  const env = {
    ...Deno.env.toObject(),
    FUNCTIONS_PORT: String(functionsPort),
    DASHBOARD_PORT: String(dashboardPort),
    WHOP_SANDBOX_PORT: String(sandboxPort),
    FUNCTIONS_URL: functionsUrl,
    DASHBOARD_URL: dashboardUrl,
    WHOP_SANDBOX_URL: sandboxUrl,
    WHOP_API_BASE_URL: `${sandboxUrl}/api/v1`,
    WHOP_JWKS_URL: `${sandboxUrl}/.well-known/jwks.json`,
    WHOP_WEBHOOK_TARGET_URL: `${functionsUrl}/whop-webhook`,
    DISPATCH_INTERVAL_SECONDS: "0",
    APP_ENV: "local",
    ...extraEnv,
  };
  delete (env as Record<string, string>).WHOP_SANDBOX_FIXTURES;
  const runner = new DevScript(env, [
    Deno.execPath(),
    "run",
    "--allow-all",
    "scripts/stack.ts",
    "--logs",
    logsDir,
  ]);
  try {
    await runner.waitFor("local stack is up", 90_000);
  } catch (error) {
    await runner.forceStop();
    throw error;
  }
  return {
    dashboardUrl,
    functionsUrl,
    sandboxUrl,
    logsDir,
    output: () => runner.output,
    stop: () => runner.interrupt(),
  };
}

async function readLogs(dir: string): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) texts.set(`logs/${entry.name}`, await Deno.readTextFile(`${dir}/${entry.name}`));
  }
  return texts;
}

Deno.test("an end-to-end run's logs, output and error reports carry no email, name, token or secret", async () => {
  const sentry = startFakeSentry();
  const sql = connectAsOwner();
  const stack = await startOwnStack({ SENTRY_DSN: sentry.dsn });
  const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
  const member = {
    email: `zelda.privacy.${tag}@example.net`,
    name: `Zelda Quixotic${tag}`,
    username: `zq_privacy_${tag}`,
  };
  let userToken = "";
  try {
    const control = async (path: string, body?: unknown, method = "POST") => {
      const response = await fetch(`${stack.sandboxUrl}/_sandbox${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await response.json();
      assert.ok(response.ok, `sandbox ${path}: ${response.status} ${JSON.stringify(json)}`);
      return json;
    };

    // The company, its member at Whop, the flags on.
    const companyId = uniqueCompany("privacy");
    const membershipId = `mem_${companyId.slice(4)}`;
    const userId = `user_${companyId.slice(4)}`;
    await enableEverything(sql);
    await isolateQueue(sql, companyId);
    await sql`insert into public.companies (company_id, title) values (${companyId}, 'Privacy Academy')`;
    await sql`insert into public.company_settings (company_id, experience_id) values (${companyId}, 'exp_privacy')`;
    await control("/fixtures", {
      memberships: [{ id: membershipId, user_id: userId, company_id: companyId, status: "past_due" }],
    });

    // A signed payment.failed carrying the member's email, name and username; and a forged one.
    const failed = paymentEvent("payment.failed", {
      companyId,
      membershipId,
      userId,
      ...member,
      amount: 19.99,
      recoveryUrl: `https://whop.com/billing/recover/pay_${tag}`,
      timestamp: new Date(Date.now() - 60_000).toISOString(),
    });
    const post = async (request: Request) => {
      const response = await fetch(`${stack.functionsUrl}/whop-webhook`, {
        method: "POST",
        headers: request.headers,
        body: await request.text(),
      });
      await response.body?.cancel();
      return response.status;
    };
    assert.equal(await post(await signedRequest(failed)), 200);
    assert.equal(await post(await signedRequest(failed, { secret: `ws_${"0".repeat(32)}` })), 401);
    const [opened] = await sql`select id from public.recovery_cases where company_id = ${companyId}`;
    assert.ok(opened, "the webhook opened a case");

    // The nudges go out through the sandbox, with the member's name in the message.
    const dispatch = await fetch(`${stack.functionsUrl}/dispatch-notifications`, {
      method: "POST",
      headers: { authorization: `Bearer ${stackVar("CRON_SECRET")}`, "content-type": "application/json" },
      body: "{}",
    });
    const counts = await dispatch.json();
    assert.equal(dispatch.status, 200, JSON.stringify(counts));
    assert.ok(counts.sent >= 2, `push and DM sent: ${JSON.stringify(counts)}`);
    const { calls } = await control("/calls?path=/api/v1/messages", undefined, "GET");
    const dm = calls.find((call: { body: { content?: string } }) =>
      call.body?.content?.includes(member.name.split(" ")[0])
    );
    assert.ok(dm, "the DM greets the member by name");
    const link = String(dm.body.content).match(/https?:\/\/[^\s)]+\/r\/[A-Za-z0-9._~-]+/)?.[0];
    assert.ok(link, dm.body.content);
    const click = await fetch(link, {
      redirect: "manual",
      headers: { "user-agent": "Mozilla/5.0 (iPhone)" },
    });
    await click.body?.cancel();
    assert.equal(click.status, 302);
    const badLink = await fetch(`${stack.dashboardUrl}/r/not-a-token`, { redirect: "manual" });
    await badLink.body?.cancel();
    assert.equal(badLink.status, 400);

    // The company's admin looks at the dashboard and searches for the member by email.
    const adminId = `user_admin_${tag}`;
    await control("/fixtures", {
      access: [{ user_id: adminId, resource_id: companyId, access_level: "admin" }],
    });
    userToken = (await control("/user-token", { user_id: adminId, app_id: stackVar("WHOP_APP_ID") })).token;
    const page = async (path: string) => {
      const response = await fetch(`${stack.dashboardUrl}${path}`, {
        headers: { "x-whop-user-token": userToken, accept: "text/html" },
      });
      return { status: response.status, html: await response.text() };
    };
    assert.equal((await page(`/dashboard/${companyId}`)).status, 200);
    const search = await page(`/dashboard/${companyId}/cases?q=${encodeURIComponent(member.email)}`);
    assert.equal(search.status, 200);
    const casePage = await page(`/dashboard/${companyId}/cases/${opened.id}`);
    assert.equal(casePage.status, 200);
    assert.ok(casePage.html.includes(member.email), "the admin sees the member (decrypted) on the page");

    // Whop fails the access check: a 503 of ours, reported to Sentry.
    await control("/faults", { method: "GET", path: "/api/v1/users/*/access/*", status: 500, times: 1 });
    const otherAdmin = `user_admin2_${tag}`;
    await control("/fixtures", {
      access: [{ user_id: otherAdmin, resource_id: companyId, access_level: "admin" }],
    });
    userToken =
      (await control("/user-token", { user_id: otherAdmin, app_id: stackVar("WHOP_APP_ID") })).token;
    const failing = await page(`/dashboard/${companyId}/cases?q=${encodeURIComponent(member.email)}`);
    assert.equal(failing.status, 503);
    assert.equal(sentry.envelopes.length, 1, "the failing request was reported");
  } finally {
    await stack.stop();
    await sql.end();
    await sentry.close();
  }

  const texts = await readLogs(stack.logsDir);
  texts.set("stack output", stack.output());
  sentry.envelopes.forEach((envelope, index) => texts.set(`sentry envelope ${index + 1}`, envelope.raw));
  assert.ok(
    (texts.get("logs/functions.log") ?? "").includes('"msg":"webhook stored"'),
    "the logs saw the flow",
  );
  assert.ok(
    (texts.get("logs/dashboard.log") ?? "").includes("recovery link clicked"),
    "the logs saw the click",
  );

  const needles = { ...member, "user token": userToken, ...stackSecrets() };
  assert.deepEqual(findLeaks(texts, needles), [], "nothing sensitive in any log, the output or Sentry");

  // The scan itself can fail: a planted value is found where it is planted.
  const planted = new Map(texts);
  planted.set("logs/dashboard.log", `${texts.get("logs/dashboard.log")}{"msg":"oops ${member.email}"}\n`);
  planted.set("stack output", `${texts.get("stack output")}CRON_SECRET is ${stackVar("CRON_SECRET")}\n`);
  assert.deepEqual(findLeaks(planted, needles), [
    "email in logs/dashboard.log",
    "CRON_SECRET[0] in stack output",
  ]);
  await Deno.remove(stack.logsDir, { recursive: true });
});

Deno.test("the shared test stack's logs (test-artifacts/logs) carry none of its secrets", async () => {
  // scripts/test.sh starts that stack with --logs test-artifacts/logs; whatever ran before this test
  // has written there.
  const texts = await readLogs(`${root}test-artifacts/logs`);
  assert.ok(texts.has("logs/dashboard.log") && texts.has("logs/functions.log"), [...texts.keys()].join(", "));
  assert.deepEqual(findLeaks(texts, stackSecrets()), []);
});
