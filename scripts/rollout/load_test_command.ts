// `deno task rollout load-test`: reads the command line into a plan (./load_test.ts), audits the
// start, sends, prints progress and the summary, cleans up and audits the result.
import { CliError, type Sql } from "../lib/database.ts";
import { envOrLocalStack } from "../lib/stack_env.ts";
import { type ParsedArgs, parseDuration, stringOption } from "./args.ts";
import { recordOperatorAction } from "./audit.ts";
import {
  createSyntheticCompany,
  judge,
  LOAD_TEST_EVENTS,
  type LoadTestEvent,
  type LoadTestPlan,
  type LoadTestReport,
  parseRate,
  progressLine,
  removeSyntheticCompany,
  sendLoad,
  storedEvents,
  summaryTable,
  syntheticCompanyId,
} from "./load_test.ts";
import { say } from "./output.ts";

const MAX_DURATION_SECONDS = 24 * 3600;

async function webhookUrl(given: string | undefined): Promise<string> {
  const target = given ?? (await envOrLocalStack("WHOP_WEBHOOK_TARGET_URL")) ??
    `${(await envOrLocalStack("FUNCTIONS_URL")) ?? "http://127.0.0.1:54321/functions/v1"}/whop-webhook`;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new CliError(
      `--url "${target}" is not a URL; give the webhook function's, e.g. https://<project>.supabase.co/functions/v1/whop-webhook.`,
      2,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new CliError(`--url "${target}" must be http(s).`, 2);
  }
  return url.href;
}

async function webhookSecret(): Promise<string> {
  const secret = (await envOrLocalStack("WHOP_WEBHOOK_SECRET"))?.split(",")[0]?.trim();
  if (!secret) {
    throw new CliError(
      "WHOP_WEBHOOK_SECRET is not set: set it to the secret the webhook function verifies with (ws_...).",
      2,
    );
  }
  return secret;
}

export async function readPlan(args: ParsedArgs): Promise<LoadTestPlan> {
  const ratePerSecond = parseRate(stringOption(args, "rate") ?? "50/s");
  const forgedText = stringOption(args, "forged-rate");
  const forgedPerSecond = forgedText === undefined || /^\s*0+\s*(\/.*)?$/.test(forgedText)
    ? 0
    : parseRate(forgedText, "--forged-rate");
  const durationSeconds = parseDuration(stringOption(args, "duration") ?? "60s", "--duration");
  if (durationSeconds < 1 || durationSeconds > MAX_DURATION_SECONDS) {
    throw new CliError(`--duration must be from 1s to 24h.`, 2);
  }
  if (ratePerSecond * durationSeconds < 1) {
    throw new CliError(
      `--rate ${
        stringOption(args, "rate")
      } for ${durationSeconds} s sends no webhook; give a longer --duration.`,
      2,
    );
  }
  const inFlightText = stringOption(args, "in-flight") ?? "64";
  const maxInFlight = Number(inFlightText);
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > 1024) {
    throw new CliError(`--in-flight "${inFlightText}" must be a whole number from 1 to 1024.`, 2);
  }
  const event = (stringOption(args, "event") ?? "payment.failed") as LoadTestEvent;
  if (!LOAD_TEST_EVENTS.includes(event)) {
    throw new CliError(`--event "${event}" must be one of ${LOAD_TEST_EVENTS.join(", ")}.`, 2);
  }
  return {
    url: await webhookUrl(stringOption(args, "url")),
    secret: await webhookSecret(),
    ratePerSecond,
    durationSeconds,
    forgedPerSecond,
    maxInFlight,
    event,
    companyId: syntheticCompanyId(),
  };
}

export async function runLoadTest(sql: Sql, args: ParsedArgs, actor: string): Promise<number> {
  const plan = await readPlan(args);
  const keep = args.options.keep === true;
  const parameters = {
    url: plan.url,
    rate_per_second: plan.ratePerSecond,
    duration_seconds: plan.durationSeconds,
    forged_per_second: plan.forgedPerSecond,
    in_flight: plan.maxInFlight,
    event: plan.event,
  };
  await createSyntheticCompany(sql, plan.companyId);
  const auditId = await recordOperatorAction(sql, {
    actor,
    action: "rollout.load_test.start",
    targetType: "company",
    targetId: plan.companyId,
    after: parameters,
  });
  say(
    `load test as ${actor} (audit_log #${auditId}): ${plan.ratePerSecond.toFixed(3).replace(/\.?0+$/, "")} ` +
      `${plan.event} webhooks/s for ${plan.durationSeconds} s to ${plan.url}` +
      (plan.forgedPerSecond > 0 ? `, ${plan.forgedPerSecond}/s forged beside them` : "") +
      `; synthetic company ${plan.companyId} (nudges paused)`,
  );
  const stop = new AbortController();
  const onInterrupt = () => {
    console.log("interrupted: no more webhooks are sent; waiting for the ones in flight, then cleaning up");
    stop.abort();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  let report: LoadTestReport | null = null;
  try {
    const sent = await sendLoad(plan, stop.signal, (progress, elapsed) => {
      console.log(progressLine(progress, elapsed, plan));
    });
    say("checking what was stored");
    const stored = await storedEvents(sql, plan.companyId);
    report = { companyId: plan.companyId, ...sent, stored, leftAfterCleanup: null };
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    if (!keep) {
      say(`removing the synthetic company ${plan.companyId} and its rows`);
      const left = await removeSyntheticCompany(sql, plan.companyId);
      if (report) report.leftAfterCleanup = left;
    }
  }
  const verdict = judge(report);
  console.log(`\n${summaryTable(report)}\n`);
  console.log(`stored: ${report.stored} of ${report.signed.statuses.get(200) ?? 0} answered 200`);
  console.log(
    `rate limiting held: ${verdict.rateLimitingHeld ? "yes" : "NO"}` +
      ` (signed 429: ${report.signed.statuses.get(429) ?? 0}` +
      (report.forged
        ? `; forged 401: ${report.forged.statuses.get(401) ?? 0}, 429: ${
          report.forged.statuses.get(429) ?? 0
        })`
        : "; no forged traffic: give --forged-rate to check the failure limit too)"),
  );
  console.log(
    keep
      ? `kept: ${plan.companyId} (delete it when done)`
      : `cleaned up: ${report.leftAfterCleanup} rows left`,
  );
  if (stop.signal.aborted) console.log("note: interrupted before the end of --duration");
  for (const problem of verdict.problems) console.log(`problem: ${problem}`);
  const doneId = await recordOperatorAction(sql, {
    actor,
    action: "rollout.load_test",
    targetType: "company",
    targetId: plan.companyId,
    before: parameters,
    after: {
      passed: verdict.passed,
      rate_limiting_held: verdict.rateLimitingHeld,
      signed: Object.fromEntries(report.signed.statuses),
      forged: report.forged ? Object.fromEntries(report.forged.statuses) : null,
      stored: report.stored,
      interrupted: stop.signal.aborted,
      kept: keep,
    },
  });
  console.log(`${verdict.passed ? "PASS" : "FAIL"}; audited as audit_log #${doneId}`);
  return verdict.passed ? 0 : 1;
}
