// The rollout CLI's commands: each with its usage, help and options; flag changes are audited
// transactions (./flags.ts), output goes through ./output.ts.
import type postgres from "postgres";
import { CliError, connectDatabase, type Sql } from "../lib/database.ts";
import { type OptionSpec, type ParsedArgs, parseDuration, stringOption } from "./args.ts";
import { recordOperatorAction, rolloutActor } from "./audit.ts";
import {
  changeFlags,
  environmentOverrides,
  type FlagChanges,
  type Flags,
  readCoverage,
  readFlags,
} from "./flags.ts";
import { runIntegrityChecks } from "./integrity.ts";
import { fetchAlerts, fetchHealth } from "./ops_http.ts";
import {
  printChange,
  printCoverage,
  printFlags,
  printIntegrity,
  printOps,
  printVerification,
  say,
} from "./output.ts";
import {
  currentPhase,
  darkLaunch,
  describePhase,
  fullRollout,
  parseCompanies,
  parsePercent,
  ramp,
  VERIFIABLE_PHASES,
} from "./phases.ts";
import { parseBatch, parseReprocessSince, reprocessEvents, reprocessSummary } from "./reprocess.ts";
import { runLoadTest } from "./load_test_command.ts";
import { THRESHOLDS } from "./thresholds.ts";
import { formatDuration, phaseName, type Verdict, verifyPhase } from "./verify.ts";

export interface Command {
  summary: string;
  usage: string;
  details: string;
  options: OptionSpec;
  run(args: ParsedArgs, usage: string): Promise<number>;
}

async function withDatabase<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  say("connecting to the database");
  const sql = await connectDatabase("rollout-cli");
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function noPositional(args: ParsedArgs, usage: string, count = 0) {
  if (args.positional.length > count) {
    throw new CliError(`unexpected argument "${args.positional[count]}".\n${usage}`, 2);
  }
}

function parseTime(value: string, option: string): Date {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) {
    throw new CliError(
      `${option} "${value}" is not a time; give an ISO 8601 time such as 2026-11-26T12:00:00Z.`,
      2,
    );
  }
  return time;
}

async function backlogHint(sql: Sql) {
  const [{ waiting }] = await sql<{ waiting: number }[]>`
    select count(*)::int as waiting from public.events where processed_at is null`;
  if (waiting > 0) {
    console.log(
      `${waiting} stored events wait for processing: run \`deno task rollout reprocess --since all\` to process them.`,
    );
  }
}

/** verify's exit code: a too-early window is not a pass, and scripts can tell it from a failure. */
const VERDICT_EXIT_CODES: Record<Verdict, number> = { pass: 0, fail: 1, too_early: 3 };

const ACTOR_HELP = "--actor <name>   who is doing this (default: $ROLLOUT_ACTOR, else the OS user); audited";

function phaseCommand(
  action: string,
  summary: string,
  details: string,
  plan: (args: ParsedArgs, usage: string) => (current: Flags) => FlagChanges,
  usage: string,
  extraOptions: OptionSpec = {},
  positional = 0,
): Command {
  return {
    summary,
    usage,
    details,
    options: { actor: "string", ...extraOptions },
    async run(args) {
      noPositional(args, usage, positional);
      const actor = rolloutActor(stringOption(args, "actor"));
      const changes = plan(args, usage);
      return await withDatabase(async (sql) => {
        say(`${summary} (as ${actor})`);
        const change = await changeFlags(sql, { actor, action, plan: changes });
        printChange(change);
        printCoverage(await readCoverage(sql));
        const after = change.after;
        if (after.NOTIFICATIONS_ENABLED.enabled && !after.SCHEDULER_ENABLED.enabled) {
          console.log(
            "warning: SCHEDULER_ENABLED is off, so nothing is claimed or sent. Ramp the scheduler too.",
          );
        } else if (
          after.NOTIFICATIONS_ENABLED.enabled && after.NOTIFICATIONS_ENABLED.rollout_percent >
            after.SCHEDULER_ENABLED.rollout_percent
        ) {
          console.log(
            `warning: notifications cover ${after.NOTIFICATIONS_ENABLED.rollout_percent}% of companies but the ` +
              `scheduler only ${after.SCHEDULER_ENABLED.rollout_percent}%: only the scheduler's companies get nudges.`,
          );
        }
        if (after.WEBHOOK_PROCESSING_ENABLED.enabled && !after.ROLLBACK_MODE.enabled) await backlogHint(sql);
        return 0;
      });
    },
  };
}

export const commands: Record<string, Command> = {
  status: {
    summary: "show the flags, health, alerts, the current phase and its success criteria",
    usage: "usage: deno task rollout status [--skip-health]",
    details: [
      "Reads the flags from the database and GET $DASHBOARD_URL/api/health and /api/alerts (bearer $OPS_TOKEN);",
      "an endpoint that does not answer is shown as unreachable or with its HTTP status.",
      "--skip-health    do not call the dashboard",
    ].join("\n"),
    options: { "skip-health": "boolean" },
    async run(args, usage) {
      noPositional(args, usage);
      const skipHealth = args.options["skip-health"] === true;
      return await withDatabase(async (sql) => {
        const flags = await readFlags(sql);
        printFlags(flags);
        printCoverage(await readCoverage(sql));
        const overrides = environmentOverrides();
        console.log(
          `environment overrides in this shell: ${overrides.length ? overrides.join(", ") : "none"} ` +
            "(the functions' own environment can force flags off too: `supabase secrets list`)",
        );
        const phase = currentPhase(flags);
        console.log(`\nphase: ${describePhase(flags)}`);

        if (!skipHealth) {
          say("asking the dashboard for health and alerts");
          const [health, alerts] = await Promise.all([fetchHealth(), fetchAlerts()]);
          printOps(health, alerts);
        }

        const verifiable = VERIFIABLE_PHASES[phase];
        if (!verifiable) {
          console.log(
            `\nphase "${phase}" has no success criteria; see RUNBOOK.md for the phases of the plan.`,
          );
          return 0;
        }
        say(`measuring the ${phaseName(verifiable)} criteria`);
        printVerification(await verifyPhase(sql, verifiable, { skipHealth }));
        return 0;
      });
    },
  },

  "dark-launch": phaseCommand(
    "rollout.dark_launch",
    "dark launch: webhook processing on, scheduler and notifications off",
    "Events are stored and processed into cases; nothing is claimed or sent.\n" + ACTOR_HELP,
    () => darkLaunch,
    "usage: deno task rollout dark-launch [--actor <name>]",
  ),

  ramp: {
    summary: "ramp the scheduler or notifications to a share of companies",
    usage:
      "usage: deno task rollout ramp scheduler|notifications <percent 0-100> [--companies biz_a,biz_b] [--actor <name>]",
    details: [
      "Turns the flag on for <percent>% of companies (a stable hash of the company id, private.company_bucket).",
      "--companies ids  comma-separated allow-list that is on whatever the percentage (replaces the flag's list;",
      '                 "" clears it). For notifications the companies join the scheduler\'s allow-list too.',
      "The plan's limited traffic: `ramp scheduler 20`, then `ramp notifications 10`.",
      ACTOR_HELP,
    ].join("\n"),
    options: { actor: "string", companies: "string" },
    async run(args, usage) {
      const [target, percentText] = args.positional;
      if (target !== "scheduler" && target !== "notifications") {
        throw new CliError(
          target === undefined
            ? `what to ramp? scheduler or notifications.\n${usage}`
            : `cannot ramp "${target}": choose scheduler or notifications.\n${usage}`,
          2,
        );
      }
      const percent = parsePercent(percentText, usage);
      const companies = parseCompanies(stringOption(args, "companies"));
      return await phaseCommand(
        `rollout.ramp_${target}`,
        `ramp ${target} to ${percent}%${companies ? ` + ${companies.length} listed companies` : ""}`,
        "",
        () => ramp(target, percent, companies),
        usage,
        { companies: "string" },
        2,
      ).run(args, usage);
    },
  },

  full: phaseCommand(
    "rollout.full",
    "full rollout: processing, scheduler and notifications on for every company",
    ACTOR_HELP,
    () => fullRollout,
    "usage: deno task rollout full [--actor <name>]",
  ),

  rollback: phaseCommand(
    "rollout.rollback",
    "rollback: ROLLBACK_MODE on (nothing processed, claimed or sent; webhooks are still stored)",
    "The other flags are left as they are, so `resume` returns to the phase before the rollback.\n" +
      ACTOR_HELP,
    () => () => ({ ROLLBACK_MODE: { enabled: true } }),
    "usage: deno task rollout rollback [--actor <name>]",
  ),

  resume: {
    summary: "resume: ROLLBACK_MODE off (back to the phase before the rollback), then process the backlog",
    usage: "usage: deno task rollout resume [--no-reprocess] [--actor <name>]",
    details: [
      "Turns ROLLBACK_MODE off; the other flags are as they were before the rollback (or as changed meanwhile).",
      "Then processes the webhooks stored during the rollback (like `reprocess --since all`).",
      "--no-reprocess   leave the stored events for a later `reprocess`",
      ACTOR_HELP,
    ].join("\n"),
    options: { actor: "string", "no-reprocess": "boolean" },
    async run(args, usage) {
      noPositional(args, usage);
      const actor = rolloutActor(stringOption(args, "actor"));
      return await withDatabase(async (sql) => {
        say(`resume: ROLLBACK_MODE off (as ${actor})`);
        const change = await changeFlags(sql, {
          actor,
          action: "rollout.resume",
          plan: () => ({ ROLLBACK_MODE: { enabled: false } }),
        });
        printChange(change);
        printCoverage(await readCoverage(sql));
        if (args.options["no-reprocess"] === true) {
          await backlogHint(sql);
          return 0;
        }
        say("processing the webhooks stored meanwhile");
        const totals = await reprocessEvents(sql, null, 200);
        console.log(reprocessSummary(totals));
        return 0;
      });
    },
  },

  verify: {
    summary: "check a phase's success criteria; exits 1 when any fails, 3 when it is too early to tell",
    usage:
      "usage: deno task rollout verify dark|limited|full|rollback [--since <ISO time>] [--grace <seconds>] [--min-observation <duration>] [--skip-health]",
    details: [
      "Measures the window from --since (default: the last flag change when <phase> is the current one, else the",
      "last audited command that entered it) and prints each criterion with its value and threshold.",
      "A window shorter than the phase's observation time is TOO EARLY (exit 3), not a pass: " +
      Object.entries(THRESHOLDS.observationSeconds).map(([phase, s]) => `${phase} ${formatDuration(s)}`).join(
        ", ",
      ) +
      " after its grace.",
      `--grace <s>      rollback only: ignore sends of a round already running (default ${THRESHOLDS.rollbackGraceSeconds})`,
      "--min-observation <duration>  require this observation time instead (90s, 15m, 24h, 3d; 0 judges any window)",
      "--skip-health    do not require GET $DASHBOARD_URL/api/health to answer 200",
      "Criteria and thresholds: README.md (Rollout CLI) and RUNBOOK.md.",
    ].join("\n"),
    options: { since: "string", grace: "string", "min-observation": "string", "skip-health": "boolean" },
    async run(args, usage) {
      noPositional(args, usage, 1);
      const name = args.positional[0];
      if (!name) throw new CliError(`which phase? dark, limited, full or rollback.\n${usage}`, 2);
      const phase = VERIFIABLE_PHASES[name];
      if (!phase) {
        throw new CliError(`unknown phase "${name}": choose dark, limited, full or rollback.\n${usage}`, 2);
      }
      const sinceText = stringOption(args, "since");
      const since = sinceText === undefined ? undefined : parseTime(sinceText, "--since");
      const graceText = stringOption(args, "grace");
      const grace = graceText === undefined ? undefined : Number(graceText);
      if (grace !== undefined && (!Number.isInteger(grace) || grace < 0 || grace > 3600)) {
        throw new CliError(`--grace "${graceText}" must be a whole number of seconds from 0 to 3600.`, 2);
      }
      const observationText = stringOption(args, "min-observation");
      const minObservationSeconds = observationText === undefined
        ? undefined
        : parseDuration(observationText, "--min-observation");
      return await withDatabase(async (sql) => {
        say(`measuring the ${phaseName(phase)} criteria`);
        const verification = await verifyPhase(sql, phase, {
          since,
          graceSeconds: grace,
          skipHealth: args.options["skip-health"] === true,
          minObservationSeconds,
        });
        printVerification(verification);
        return VERDICT_EXIT_CODES[verification.verdict];
      });
    },
  },

  reprocess: {
    summary: "process stored webhook events that were not processed (audited)",
    usage: "usage: deno task rollout reprocess --since <ISO time | all> [--batch N] [--actor <name>]",
    details:
      "The same as `deno task reprocess` (event-time order, idempotent), recorded in the audit log.\n" +
      ACTOR_HELP,
    options: { since: "string", batch: "string", actor: "string" },
    async run(args, usage) {
      noPositional(args, usage);
      const since = parseReprocessSince(stringOption(args, "since"));
      const batch = parseBatch(stringOption(args, "batch"));
      const actor = rolloutActor(stringOption(args, "actor"));
      return await withDatabase(async (sql) => {
        say(`reprocessing events since ${since ?? "the beginning"} (as ${actor})`);
        const totals = await reprocessEvents(sql, since, batch);
        await recordOperatorAction(sql, {
          actor,
          action: "rollout.reprocess",
          targetType: "events",
          after: { since: since ?? "all", ...totals },
        });
        console.log(`\n${reprocessSummary(totals)}`);
        return 0;
      });
    },
  },

  "load-test": {
    summary:
      "send signed synthetic webhooks at a rate for a time; report latency, 429s, rate limiting (audited)",
    usage:
      "usage: deno task rollout load-test [--url <webhook function URL>] [--rate 50/s] [--duration 60s]\n" +
      "         [--forged-rate 0/s] [--in-flight 64] [--event payment.failed|payment.succeeded] [--keep] [--actor <name>]",
    details: [
      "Phase 3.2 of the rollout plan. Creates a synthetic company (biz_loadtest..., nudges paused: nothing is ever",
      "sent for it), sends it v1 webhooks signed with WHOP_WEBHOOK_SECRET open loop at --rate for --duration",
      "(e.g. 300/h for 1h, or 50/s for 60s), and with --forged-rate as many forged ones a second beside them,",
      "prints progress every 5 s, then a summary: answered, rate, 200 share, 429s, p50/p95/p99, and whether rate",
      "limiting held (no signed webhook refused 429, every forged one refused 401/429). Then checks that every",
      "webhook answered 200 was stored and deletes the synthetic company with all its rows (--keep leaves it).",
      "Ctrl-C stops sending and still cleans up. Exits 1 when anything did not hold. Start and end are audited.",
      "--url defaults to $WHOP_WEBHOOK_TARGET_URL, else the local stack's functions gateway.",
      ACTOR_HELP,
    ].join("\n"),
    options: {
      url: "string",
      rate: "string",
      duration: "string",
      "forged-rate": "string",
      "in-flight": "string",
      event: "string",
      keep: "boolean",
      actor: "string",
    },
    async run(args, usage) {
      noPositional(args, usage);
      const actor = rolloutActor(stringOption(args, "actor"));
      return await withDatabase((sql) => runLoadTest(sql, args, actor));
    },
  },

  integrity: {
    summary: "run the integrity checks (daily counts + invariants); exits 1 on any violation",
    usage: "usage: deno task rollout integrity [--days N | --since <ISO time>]",
    details: [
      "Runs private.run_integrity_checks, the function pg_cron runs daily (job churn-saver-integrity), over rows",
      `that arrived or changed in the window (default: the last ${THRESHOLDS.integrityDays} days); the run is stored`,
      "in public.integrity_runs / integrity_findings. Samples are row ids, never member data.",
    ].join("\n"),
    options: { days: "string", since: "string" },
    async run(args, usage) {
      noPositional(args, usage);
      const daysText = stringOption(args, "days");
      const sinceText = stringOption(args, "since");
      if (daysText !== undefined && sinceText !== undefined) {
        throw new CliError(`give --days or --since, not both.\n${usage}`, 2);
      }
      const days = daysText === undefined ? THRESHOLDS.integrityDays : Number(daysText);
      if (!Number.isInteger(days) || days < 1 || days > 366) {
        throw new CliError(`--days "${daysText}" must be a whole number from 1 to 366.`, 2);
      }
      const since = sinceText === undefined
        ? new Date(Date.now() - days * 86_400_000)
        : parseTime(sinceText, "--since");
      if (Date.now() - since.getTime() > 366 * 86_400_000) {
        throw new CliError("--since is more than 366 days ago; check a shorter window.", 2);
      }
      return await withDatabase(async (sql) => {
        say(`running the integrity checks since ${since.toISOString()}`);
        const run = await runIntegrityChecks(sql, since, "cli");
        printIntegrity(run);
        return run.status === "pass" ? 0 : 1;
      });
    },
  },
};
