// The production configuration that scripts/deploy.sh deploys, checked offline: every variable the
// functions and the dashboard need (ARCHITECTURE section 8) present and well-formed, no local URL,
// the migrations named and ordered, one config.toml block per function. It never prints a value.
//   deno run --allow-read --allow-env scripts/deploy_config.ts check
//   deno run --allow-read --allow-env --allow-write scripts/deploy_config.ts env-file functions|dashboard FILE
//   deno run --allow-read --allow-env scripts/deploy_config.ts non-secrets dashboard
import { type EnvReader } from "../supabase/functions/_shared/config.ts";
import { loadKeyRing } from "../supabase/functions/_shared/crypto/pii.ts";
import { sentryDsnHost } from "../supabase/functions/_shared/sentry.ts";
import { readThresholds, THRESHOLD_VARIABLES } from "../web/ops/thresholds.ts";
import { readAllowedOrigins } from "../web/lib/cross_site.ts";
import { listFunctions } from "./local/functions_gateway.ts";

const FLAGS = ["WEBHOOK_PROCESSING_ENABLED", "SCHEDULER_ENABLED", "NOTIFICATIONS_ENABLED", "ROLLBACK_MODE"];
const ALERT_TUNING = [
  "ALERT_EVALUATION_INTERVAL_SECONDS",
  ...Object.values(THRESHOLD_VARIABLES).map((threshold) => threshold.variable),
];
/** The dashboard's limits on CSV exports (web/lib/export_limits.ts). */
const DASHBOARD_TUNING = ["DASHBOARD_EXPORT_IDLE_SECONDS", "DASHBOARD_EXPORT_MAX_SECONDS"];
const FUNCTION_TUNING = [
  "WEBHOOK_FAILED_VERIFICATIONS_PER_IP",
  "WEBHOOK_MAX_BODY_BYTES",
  "WEBHOOK_DB_TIMEOUT_MS",
  "WHOP_TIMEOUT_MS",
  "DISPATCH_BATCH_SIZE",
  "DISPATCH_CONCURRENCY",
  "DISPATCH_MAX_SECONDS",
  "DISPATCH_LEASE_SECONDS",
  "DISPATCH_MAX_ATTEMPTS",
  "DISPATCH_RETRY_BASE_SECONDS",
  "DISPATCH_RETRY_MAX_SECONDS",
  "DISPATCH_BREAKER_THRESHOLD",
  "DISPATCH_BREAKER_COOLOFF_SECONDS",
];

/** What each deployed part is given. SUPABASE_DB_URL is set by Supabase itself. */
export const TARGETS = {
  functions: {
    required: [
      "APP_ENV",
      "WHOP_WEBHOOK_SECRET",
      "WHOP_API_KEY",
      "WHOP_API_BASE_URL",
      "WHOP_APP_ID",
      "ENCRYPTION_KEYS",
      "LINK_SIGNING_KEY",
      "CRON_SECRET",
      "DASHBOARD_URL",
    ],
    optional: ["SENTRY_DSN", ...FLAGS, ...FUNCTION_TUNING],
  },
  dashboard: {
    required: [
      "APP_ENV",
      "DATABASE_URL",
      "WHOP_APP_ID",
      "WHOP_API_KEY",
      "WHOP_API_BASE_URL",
      "WHOP_JWKS_URL",
      "ENCRYPTION_KEYS",
      "LINK_SIGNING_KEY",
      "OPS_TOKEN",
    ],
    optional: [
      "SENTRY_DSN",
      "ALERT_WEBHOOK_URL",
      "DASHBOARD_ALLOWED_ORIGINS",
      ...FLAGS,
      ...ALERT_TUNING,
      ...DASHBOARD_TUNING,
    ],
  },
} as const;
export type Target = keyof typeof TARGETS;

/** Where the deploy goes and the credentials of the two CLIs. */
export const DEPLOY_TARGET = [
  "SUPABASE_PROJECT_REF",
  "SUPABASE_ACCESS_TOKEN",
  "SUPABASE_DB_PASSWORD",
  "DENO_DEPLOY_ORG",
  "DENO_DEPLOY_APP",
  "DENO_DEPLOY_TOKEN",
] as const;

/** Dashboard variables that are not secrets (visible in Deno Deploy's console). */
const DASHBOARD_NON_SECRETS = [
  "APP_ENV",
  "WHOP_APP_ID",
  "WHOP_API_BASE_URL",
  "WHOP_JWKS_URL",
  "DASHBOARD_ALLOWED_ORIGINS",
  ...FLAGS,
  ...ALERT_TUNING,
  ...DASHBOARD_TUNING,
];

const MIN_TOKEN_LENGTH = 32;
const MIGRATION_NAME = /^(\d{14})_[a-z0-9_]+\.sql$/;
const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1?\]|.*\.local|.*\.localhost)$/i;

const value = (env: EnvReader, name: string) => env.get(name)?.trim() ?? "";

/** Every problem of the configuration in `env` and the project at `root`, each naming what to fix. */
export async function checkDeployConfig(env: EnvReader, root: URL): Promise<string[]> {
  const problems: string[] = [];
  const required = new Set<string>([
    ...DEPLOY_TARGET,
    ...TARGETS.functions.required,
    ...TARGETS.dashboard.required,
  ]);
  const missing = [...required].filter((name) => !value(env, name));
  if (missing.length > 0) {
    problems.push(`missing: ${missing.join(", ")}. Set them in the environment of scripts/deploy.sh.`);
  }
  const present = (name: string) => value(env, name) !== "";

  if (present("APP_ENV") && value(env, "APP_ENV") !== "production") {
    problems.push(`APP_ENV must be "production" for a deploy, not "${value(env, "APP_ENV")}".`);
  }
  if (present("WHOP_WEBHOOK_SECRET")) {
    const entries = value(env, "WHOP_WEBHOOK_SECRET").split(",").map((entry) => entry.trim());
    const bad = entries.flatMap((entry, index) => /^ws_[A-Za-z0-9]{16,}$/.test(entry) ? [] : [index + 1]);
    if (bad.length > 0) {
      problems.push(
        `WHOP_WEBHOOK_SECRET: entry ${bad.join(", ")} of ${entries.length} is not a Whop webhook secret ` +
          `("ws_" and at least 16 letters or digits, as Whop shows it; comma-separated during a rotation).`,
      );
    }
  }
  if (present("ENCRYPTION_KEYS")) {
    try {
      await loadKeyRing(value(env, "ENCRYPTION_KEYS"));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  for (
    const name of ["WHOP_API_BASE_URL", "WHOP_JWKS_URL", "DASHBOARD_URL", "SENTRY_DSN", "ALERT_WEBHOOK_URL"]
  ) {
    if (present(name)) problems.push(...checkUrl(name, value(env, name), ["https:"]));
  }
  if (present("SENTRY_DSN")) {
    try {
      sentryDsnHost(value(env, "SENTRY_DSN"));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (present("DATABASE_URL")) {
    problems.push(...checkUrl("DATABASE_URL", value(env, "DATABASE_URL"), ["postgres:", "postgresql:"]));
  }
  for (const name of ["OPS_TOKEN", "CRON_SECRET", "LINK_SIGNING_KEY"]) {
    if (present(name) && value(env, name).length < MIN_TOKEN_LENGTH) {
      problems.push(
        `${name} is ${value(env, name).length} characters; use at least ${MIN_TOKEN_LENGTH} random ones ` +
          "(e.g. `openssl rand -hex 32`).",
      );
    }
  }
  if (present("OPS_TOKEN") && value(env, "OPS_TOKEN") === value(env, "CRON_SECRET")) {
    problems.push("OPS_TOKEN and CRON_SECRET are the same; give each its own random value.");
  }
  if (value(env, "WHOP_API_KEY").startsWith("sandbox_key_")) {
    problems.push(
      "WHOP_API_KEY is the local sandbox's key; use the app's API key from Whop's developer dashboard.",
    );
  }
  if (present("WHOP_APP_ID") && !/^app_[A-Za-z0-9]+$/.test(value(env, "WHOP_APP_ID"))) {
    problems.push('WHOP_APP_ID must be the Whop app id ("app_" and letters or digits).');
  }
  for (const name of FLAGS) {
    if (present(name) && !["true", "false"].includes(value(env, name))) {
      problems.push(`${name} must be "true" or "false" when set, not "${value(env, name)}".`);
    }
  }
  try {
    readThresholds(env); // the dashboard's own check of the OPS_* alert thresholds
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (present("DASHBOARD_ALLOWED_ORIGINS")) {
    try {
      for (const origin of readAllowedOrigins(env)) {
        problems.push(...checkUrl("DASHBOARD_ALLOWED_ORIGINS", origin, ["https:"]));
      }
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  for (const name of ["ALERT_EVALUATION_INTERVAL_SECONDS", ...FUNCTION_TUNING, ...DASHBOARD_TUNING]) {
    if (present(name) && !(Number(value(env, name)) > 0)) {
      problems.push(`${name} must be a positive number when set, not "${value(env, name)}".`);
    }
  }
  if (present("SUPABASE_PROJECT_REF") && !/^[a-z]{20}$/.test(value(env, "SUPABASE_PROJECT_REF"))) {
    problems.push("SUPABASE_PROJECT_REF must be the project's ref: 20 lowercase letters (Project Settings).");
  }
  if (present("SUPABASE_ACCESS_TOKEN") && !/^sbp_[A-Za-z0-9]+$/.test(value(env, "SUPABASE_ACCESS_TOKEN"))) {
    problems.push(
      'SUPABASE_ACCESS_TOKEN must be a personal access token ("sbp_...", Account > Access Tokens).',
    );
  }
  for (const name of ["DENO_DEPLOY_ORG", "DENO_DEPLOY_APP"]) {
    if (present(name) && !/^[a-z0-9][a-z0-9-]*$/.test(value(env, name))) {
      problems.push(`${name} must be a Deno Deploy slug (lowercase letters, digits and "-").`);
    }
  }
  problems.push(...checkMigrations(await fileNames(new URL("supabase/migrations/", root))));
  for (const name of await fileNames(new URL("supabase/migrations/", root))) {
    const text = await Deno.readTextFile(new URL(`supabase/migrations/${name}`, root));
    if (!text.trimStart().startsWith("--")) {
      problems.push(`supabase/migrations/${name} has no header comment saying what it does.`);
    }
  }
  problems.push(
    ...checkFunctionBlocks(
      await Deno.readTextFile(new URL("supabase/config.toml", root)),
      await listFunctions(new URL("supabase/functions/", root)),
    ),
  );
  return problems;
}

/** An absolute URL with one of `protocols`, pointing at a host that is not this machine. */
export function checkUrl(name: string, raw: string, protocols: string[]): string[] {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return [`${name} is not a valid URL.`];
  }
  const problems: string[] = [];
  if (!protocols.includes(url.protocol)) {
    problems.push(`${name} must use ${protocols.join(" or ")}, not ${url.protocol}`);
  }
  if (LOCAL_HOST.test(url.hostname)) {
    problems.push(`${name} points at this machine (${url.hostname}); production needs the real address.`);
  }
  return problems;
}

/** Migration files: `YYYYMMDDHHmmss_name.sql`, lowercase names, one file per timestamp. */
export function checkMigrations(names: string[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const name of [...names].sort()) {
    const match = MIGRATION_NAME.exec(name);
    if (!match) {
      problems.push(
        `supabase/migrations/${name} is not named YYYYMMDDHHmmss_lowercase_name.sql (supabase db push would skip or misorder it).`,
      );
      continue;
    }
    const other = seen.get(match[1]);
    if (other) problems.push(`supabase/migrations/${name} and ${other} share the timestamp ${match[1]}.`);
    seen.set(match[1], name);
  }
  if (names.length === 0) problems.push("supabase/migrations/ has no migrations.");
  return problems;
}

/** One `[functions.NAME]` block per function folder, with its JWT setting and entrypoint, and no other. */
export function checkFunctionBlocks(toml: string, functions: string[]): string[] {
  const problems: string[] = [];
  const blocks = new Map<string, string>();
  const sections = toml.split(/^(?=\[)/m);
  for (const section of sections) {
    const header = /^\[functions\.([A-Za-z0-9_-]+)\]/.exec(section);
    if (header) blocks.set(header[1], section);
  }
  for (const name of functions) {
    const block = blocks.get(name);
    if (!block) {
      problems.push(`supabase/config.toml has no [functions.${name}] block (verify_jwt, entrypoint).`);
      continue;
    }
    if (!/^verify_jwt\s*=\s*(true|false)\s*$/m.test(block)) {
      problems.push(`[functions.${name}] in supabase/config.toml does not say verify_jwt = true or false.`);
    }
    if (!block.includes(`entrypoint = "./functions/${name}/index.ts"`)) {
      problems.push(
        `[functions.${name}] in supabase/config.toml must have entrypoint = "./functions/${name}/index.ts".`,
      );
    }
  }
  for (const name of blocks.keys()) {
    if (!functions.includes(name)) {
      problems.push(
        `supabase/config.toml has [functions.${name}] but supabase/functions/${name}/ does not exist.`,
      );
    }
  }
  return problems;
}

async function fileNames(dir: URL): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) if (entry.isFile) names.push(entry.name);
  return names.sort();
}

/** `NAME=value` lines of what `target` is given, for `supabase secrets set --env-file` / `deno deploy env load`. */
export function envFile(env: EnvReader, target: Target): string {
  const { required, optional } = TARGETS[target];
  return [...required, ...optional.filter((name) => value(env, name))]
    .map((name) => `${name}=${value(env, name)}`)
    .join("\n") + "\n";
}

if (import.meta.main) {
  const [command, target, file] = Deno.args;
  const root = new URL("../", import.meta.url);
  if (command === "check") {
    const problems = await checkDeployConfig(Deno.env, root);
    for (const problem of problems) console.error(`  - ${problem}`);
    if (problems.length > 0) {
      console.error(
        `${problems.length} problem${problems.length === 1 ? "" : "s"} in the production configuration.`,
      );
      Deno.exit(1);
    }
    console.log("  production configuration: OK");
  } else if (command === "env-file" && (target === "functions" || target === "dashboard") && file) {
    const text = envFile(Deno.env, target);
    await Deno.writeTextFile(file, text, { mode: 0o600 });
    console.log(text.trim().split("\n").map((line) => line.slice(0, line.indexOf("="))).join(" "));
  } else if (command === "non-secrets" && target === "dashboard") {
    console.log(DASHBOARD_NON_SECRETS.filter((name) => value(Deno.env, name)).join(" "));
  } else {
    console.error(
      "usage: deploy_config.ts check | env-file functions|dashboard FILE | non-secrets dashboard",
    );
    Deno.exit(2);
  }
}
