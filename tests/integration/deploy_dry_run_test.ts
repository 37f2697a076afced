// scripts/deploy.sh --dry-run validates the production configuration offline and prints its plan;
// every kind of bad configuration is refused with a message naming the variable (and never its
// value). The real deploy is never run here.
import assert from "node:assert/strict";
import { stripVTControlCharacters } from "node:util";
import {
  checkDeployConfig,
  checkFunctionBlocks,
  checkMigrations,
  envFile,
} from "../../scripts/deploy_config.ts";

const root = new URL("../../", import.meta.url);
const hex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
const base64Key = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

function goodConfig(): Record<string, string> {
  return {
    APP_ENV: "production",
    SUPABASE_PROJECT_REF: "abcdefghijklmnopqrst",
    SUPABASE_ACCESS_TOKEN: `sbp_${hex(20)}`,
    SUPABASE_DB_PASSWORD: `pw-${hex(8)}`,
    DENO_DEPLOY_ORG: "churn-saver",
    DENO_DEPLOY_APP: "churn-saver-dashboard",
    DENO_DEPLOY_TOKEN: `ddp_${hex(16)}`,
    WHOP_WEBHOOK_SECRET: `ws_${hex(32)}`,
    WHOP_API_KEY: `apik_${hex(16)}`,
    WHOP_APP_ID: "app_churnsaver123",
    WHOP_API_BASE_URL: "https://api.whop.com/api/v1",
    WHOP_JWKS_URL: "https://api.whop.com/.well-known/jwks.json",
    ENCRYPTION_KEYS: `k2:${base64Key()},k1:${base64Key()}`,
    LINK_SIGNING_KEY: hex(32),
    CRON_SECRET: hex(32),
    OPS_TOKEN: hex(32),
    DASHBOARD_URL: "https://churn-saver.example.com",
    DATABASE_URL: `postgresql://postgres.abcdefghijklmnopqrst:${
      hex(8)
    }@aws-0-eu-central-1.pooler.supabase.com:6543/postgres`,
    SENTRY_DSN: `https://${hex(16)}@o1.ingest.sentry.io/42`,
  };
}

async function deployDryRun(config: Record<string, string>) {
  const output = await new Deno.Command("bash", {
    args: ["scripts/deploy.sh", "--dry-run"],
    cwd: root.pathname,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: Deno.env.get("HOME") ?? "/root", ...config },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (bytes: Uint8Array) => stripVTControlCharacters(new TextDecoder().decode(bytes));
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}

const secretsOf = (config: Record<string, string>) =>
  Object.entries(config)
    .filter(([name]) => /SECRET|TOKEN|KEY|PASSWORD|DSN|DATABASE_URL/.test(name))
    .flatMap(([, value]) => value.split(",").map((part) => part.slice(part.indexOf(":") + 1)));

Deno.test("deploy --dry-run: a good configuration passes and prints the plan, never a secret", async () => {
  const config = goodConfig();
  const run = await deployDryRun(config);
  assert.equal(run.code, 0, run.stderr);
  const plan = [
    "supabase link --project-ref abcdefghijklmnopqrst",
    "supabase db push --linked --yes",
    "supabase secrets set --project-ref abcdefghijklmnopqrst --env-file <temp>/functions.env",
    "supabase functions deploy whop-webhook dispatch-notifications --project-ref abcdefghijklmnopqrst --use-api",
    "deno task --quiet build:islands",
    "deno deploy env load <temp>/dashboard.env --org churn-saver --app churn-saver-dashboard --non-secrets",
    "deno deploy --org churn-saver --app churn-saver-dashboard --prod",
  ];
  let at = -1;
  for (const command of plan) {
    const found = run.stdout.indexOf(`$ ${command}`);
    assert.ok(found > at, `the plan runs "${command}" next:\n${run.stdout}`);
    at = found;
  }
  assert.match(run.stdout, /Set the functions' secrets: APP_ENV WHOP_WEBHOOK_SECRET .*SENTRY_DSN/);
  assert.match(run.stderr, /Dry run: the configuration is valid/);
  for (const secret of secretsOf(config)) {
    assert.ok(!(run.stdout + run.stderr).includes(secret), "no secret value is printed");
  }
});

Deno.test("deploy --dry-run: bad configuration exits non-zero naming every problem and no value", async () => {
  const config = {
    ...goodConfig(),
    APP_ENV: "local",
    OPS_TOKEN: "short",
    WHOP_WEBHOOK_SECRET: "not-a-whop-secret",
  };
  delete (config as Record<string, string>).CRON_SECRET;
  const run = await deployDryRun(config);
  assert.notEqual(run.code, 0);
  for (
    const expected of [
      /missing: CRON_SECRET/,
      /APP_ENV must be "production"/,
      /OPS_TOKEN is 5 characters/,
      /WHOP_WEBHOOK_SECRET: entry 1 of 1/,
      /nothing was deployed/,
    ]
  ) {
    assert.match(run.stderr, expected);
  }
  assert.ok(!run.stderr.includes("not-a-whop-secret"), "the bad value itself is not echoed");
  assert.doesNotMatch(run.stdout, /supabase link/, "no plan is printed for a configuration with problems");
});

Deno.test("the configuration check names the variable for each kind of problem", async () => {
  const cases: [string, Record<string, string | undefined>, RegExp][] = [
    ["missing variable", { WHOP_JWKS_URL: undefined }, /missing: WHOP_JWKS_URL/],
    ["not production", { APP_ENV: "staging" }, /APP_ENV must be "production"/],
    [
      "Whop secret format",
      { WHOP_WEBHOOK_SECRET: `ws_${hex(32)},whsec_abc` },
      /WHOP_WEBHOOK_SECRET: entry 2 of 2/,
    ],
    [
      "key ring that does not parse",
      { ENCRYPTION_KEYS: "k1:tooshort" },
      /ENCRYPTION_KEYS key "k1" decodes to/,
    ],
    [
      "key ring without ids",
      { ENCRYPTION_KEYS: base64Key() },
      /ENCRYPTION_KEYS entry 1 of 1 has no "<id>:" prefix/,
    ],
    ["invalid URL", { WHOP_API_BASE_URL: "api.whop.com/api/v1" }, /WHOP_API_BASE_URL is not a valid URL/],
    ["local URL", { DASHBOARD_URL: "https://127.0.0.1:8000" }, /DASHBOARD_URL points at this machine/],
    ["localhost URL", { WHOP_JWKS_URL: "https://localhost/jwks" }, /WHOP_JWKS_URL points at this machine/],
    ["plain http", { DASHBOARD_URL: "http://churn-saver.example.com" }, /DASHBOARD_URL must use https:/],
    [
      "local database",
      { DATABASE_URL: "postgresql://postgres@127.0.0.1:54322/postgres" },
      /DATABASE_URL points at this machine/,
    ],
    [
      "database scheme",
      { DATABASE_URL: "mysql://db.example.com/x" },
      /DATABASE_URL must use postgres: or postgresql:/,
    ],
    [
      "local Sentry",
      { SENTRY_DSN: "https://key@127.0.0.1:9000/1" },
      /SENTRY_DSN points at this machine/,
    ],
    [
      "Sentry DSN without key",
      { SENTRY_DSN: "https://o1.ingest.sentry.io/42" },
      /SENTRY_DSN is not a Sentry DSN/,
    ],
    [
      "local alert webhook",
      { ALERT_WEBHOOK_URL: "https://localhost:9999/hook" },
      /ALERT_WEBHOOK_URL points at this machine/,
    ],
    ["bad alert threshold", { OPS_QUEUE_DEPTH: "lots" }, /OPS_QUEUE_DEPTH/],
    [
      "bad alert interval",
      { ALERT_EVALUATION_INTERVAL_SECONDS: "0" },
      /ALERT_EVALUATION_INTERVAL_SECONDS must be a positive number/,
    ],
    ["short OPS_TOKEN", { OPS_TOKEN: "abc" }, /OPS_TOKEN is 3 characters/],
    ["short CRON_SECRET", { CRON_SECRET: hex(8) }, /CRON_SECRET is 16 characters/],
    ["short LINK_SIGNING_KEY", { LINK_SIGNING_KEY: "k" }, /LINK_SIGNING_KEY is 1 characters/],
    [
      "same token twice",
      { CRON_SECRET: "x".repeat(40), OPS_TOKEN: "x".repeat(40) },
      /OPS_TOKEN and CRON_SECRET are the same/,
    ],
    [
      "sandbox API key",
      { WHOP_API_KEY: `sandbox_key_${hex(16)}` },
      /WHOP_API_KEY is the local sandbox's key/,
    ],
    ["app id", { WHOP_APP_ID: "churnsaver" }, /WHOP_APP_ID must be the Whop app id/],
    ["flag value", { ROLLBACK_MODE: "yes" }, /ROLLBACK_MODE must be "true" or "false"/],
    ["tuning value", { DISPATCH_BATCH_SIZE: "-1" }, /DISPATCH_BATCH_SIZE must be a positive number/],
    [
      "export timeout",
      { DASHBOARD_EXPORT_IDLE_SECONDS: "0" },
      /DASHBOARD_EXPORT_IDLE_SECONDS must be a positive number/,
    ],
    [
      "form origin with a path",
      { DASHBOARD_ALLOWED_ORIGINS: "https://app.apps.whop.com/dashboard" },
      /DASHBOARD_ALLOWED_ORIGINS must list origins/,
    ],
    [
      "local form origin",
      { DASHBOARD_ALLOWED_ORIGINS: "https://app.apps.whop.com,https://localhost:8000" },
      /DASHBOARD_ALLOWED_ORIGINS points at this machine/,
    ],
    ["project ref", { SUPABASE_PROJECT_REF: "my-project" }, /SUPABASE_PROJECT_REF must be the project's ref/],
    [
      "access token",
      { SUPABASE_ACCESS_TOKEN: "token" },
      /SUPABASE_ACCESS_TOKEN must be a personal access token/,
    ],
    ["deploy slug", { DENO_DEPLOY_APP: "Churn Saver" }, /DENO_DEPLOY_APP must be a Deno Deploy slug/],
  ];
  assert.deepEqual(
    await checkDeployConfig(new Map(Object.entries(goodConfig())), root),
    [],
    "the good one is clean",
  );
  for (const [what, change, expected] of cases) {
    const config = new Map(
      Object.entries({ ...goodConfig(), ...change }).filter(([, v]) => v !== undefined),
    ) as Map<
      string,
      string
    >;
    const problems = await checkDeployConfig(config, root);
    assert.equal(problems.length, 1, `${what}: exactly one problem, got ${JSON.stringify(problems)}`);
    assert.match(problems[0], expected, what);
  }
});

Deno.test("migration names, their order and the functions' config.toml blocks are checked", () => {
  assert.deepEqual(checkMigrations(["20261126000100_a.sql", "20261126000200_b.sql"]), []);
  assert.match(
    checkMigrations(["20261126000100_a.sql", "2026112600_short.sql"])[0],
    /2026112600_short\.sql is not named/,
  );
  assert.match(
    checkMigrations(["20261126000100_Upper.sql"])[0],
    /is not named YYYYMMDDHHmmss_lowercase_name/,
  );
  assert.match(
    checkMigrations(["20261126000100_a.sql", "20261126000100_b.sql"])[0],
    /share the timestamp 20261126000100/,
  );
  assert.match(checkMigrations([])[0], /no migrations/);

  const block = (name: string, jwt = "verify_jwt = false\n") =>
    `[functions.${name}]\n${jwt}entrypoint = "./functions/${name}/index.ts"\n\n`;
  assert.deepEqual(checkFunctionBlocks(block("a") + block("b"), ["a", "b"]), []);
  assert.match(checkFunctionBlocks(block("a"), ["a", "b"])[0], /no \[functions\.b\] block/);
  assert.match(checkFunctionBlocks(block("a", ""), ["a"])[0], /does not say verify_jwt/);
  assert.match(
    checkFunctionBlocks(block("a") + block("gone"), ["a"])[0],
    /supabase\/functions\/gone\/ does not exist/,
  );
});

Deno.test("the env files carry what each part needs, the optional variables only when set", () => {
  const config = goodConfig();
  const functions = envFile(new Map(Object.entries(config)), "functions");
  assert.match(functions, /^WHOP_WEBHOOK_SECRET=ws_/m);
  assert.match(functions, /^SENTRY_DSN=/m);
  assert.doesNotMatch(functions, /^(DATABASE_URL|OPS_TOKEN|SUPABASE_|DENO_DEPLOY_|ROLLBACK_MODE)/m);
  const dashboard = envFile(new Map(Object.entries(config)), "dashboard");
  assert.match(dashboard, /^DATABASE_URL=postgresql:/m);
  assert.match(dashboard, /^OPS_TOKEN=/m);
  assert.doesNotMatch(dashboard, /^(WHOP_WEBHOOK_SECRET|CRON_SECRET|SUPABASE_)/m);
});
