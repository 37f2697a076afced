// `deno task rollout <command>`: the rollout plan's steps as commands. Every flag change is one
// audited transaction; every command prints progress and a summary table; errors name the problem
// and what to do (exit 2 for a wrong command line, 1 for anything else that failed).
import type postgres from "postgres";
import { redactText } from "../../supabase/functions/_shared/log.ts";
import { CliError, connectDatabase, type Sql } from "../lib/database.ts";
import { formatTable } from "../lib/table.ts";
import { type OptionSpec, parseArgs, type ParsedArgs, stringOption } from "./args.ts";
import { recordOperatorAction, resolveActor } from "./audit.ts";
import {
  changeFlags,
  environmentOverrides,
  FLAG_NAMES,
  type FlagChange,
  type FlagChanges,
  type Flags,
  readFlags,
} from "./flags.ts";
import { runIntegrityChecks } from "./integrity.ts";
import { type AlertsBody, describeHealth, fetchAlerts, fetchHealth } from "./ops_http.ts";
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
import { THRESHOLDS } from "./thresholds.ts";
import { phaseName, type Verification, verifyPhase } from "./verify.ts";

interface Command {
  summary: string;
  usage: string;
  details: string;
  options: OptionSpec;
  run(args: ParsedArgs, usage: string): Promise<number>;
}

const say = (line: string) => console.log(`==> ${line}`);

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

const list = (values: string[]) => values.length ? values.join(",") : "-";
const flagRows = (flags: Flags) =>
  FLAG_NAMES.map((name) => {
    const flag = flags[name];
    return [
      name,
      flag.enabled ? "on" : "off",
      `${flag.rollout_percent}%`,
      list(flag.company_allowlist),
      flag.updated_by,
      flag.updated_at.toISOString(),
    ];
  });
const FLAG_HEADER = ["flag", "enabled", "percent", "allow-list", "updated by", "updated at"];

function printChange(change: FlagChange) {
  const state = (flags: Flags, name: typeof FLAG_NAMES[number]) => {
    const flag = flags[name];
    if (!flag.enabled) return "off";
    if (name === "ROLLBACK_MODE") return "on";
    return `on ${flag.rollout_percent}%` +
      (flag.company_allowlist.length ? ` +[${list(flag.company_allowlist)}]` : "");
  };
  console.log(`\n${
    formatTable(
      ["flag", "before", "after", ""],
      FLAG_NAMES.map((
        name,
      ) => [
        name,
        state(change.before, name),
        state(change.after, name),
        change.changed.includes(name) ? "changed" : "",
      ]),
    )
  }`);
  console.log(`\nphase now: ${describePhase(change.after)}`);
  console.log(
    change.changed.length
      ? `audited as audit_log #${change.auditId}`
      : `nothing changed (already so); audited as audit_log #${change.auditId}`,
  );
  if (change.after.ROLLBACK_MODE.enabled && change.changed.some((name) => name !== "ROLLBACK_MODE")) {
    console.log("note: ROLLBACK_MODE is on, so this takes effect on `deno task rollout resume`.");
  }
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
      const actor = resolveActor(stringOption(args, "actor"));
      const changes = plan(args, usage);
      return await withDatabase(async (sql) => {
        say(`${summary} (as ${actor})`);
        const change = await changeFlags(sql, { actor, action, plan: changes });
        printChange(change);
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

function printVerification(verification: Verification) {
  console.log(
    `\n${phaseName(verification.phase)}: success criteria since ${verification.since.toISOString()}\n`,
  );
  console.log(formatTable(
    ["criterion", "measured", "threshold", "result"],
    verification.criteria.map((c) => [c.name, c.measured, c.threshold, c.result.toUpperCase()]),
  ));
  const failed = verification.criteria.filter((c) => c.result === "fail").length;
  console.log(
    `\n${phaseName(verification.phase)}: ${
      verification.passed ? "PASS" : `FAIL (${failed} of ${verification.criteria.length} criteria failed)`
    }`,
  );
}

const commands: Record<string, Command> = {
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
        console.log(`\nfeature flags\n${formatTable(FLAG_HEADER, flagRows(flags))}`);
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
          console.log(`\nhealth (${health.url}): ${describeHealth(health)}`);
          const reasons = health.body?.reasons;
          if (Array.isArray(reasons) && reasons.length) console.log(`  why: ${reasons.join("; ")}`);
          const checks = health.body?.checks as Record<string, { status?: string }> | undefined;
          if (checks && typeof checks === "object") {
            console.log(formatTable(
              ["check", "status"],
              Object.entries(checks).map((
                [name, check],
              ) => [name, String(check?.status ?? JSON.stringify(check))]),
            ));
          }
          if (alerts.problem) {
            console.log(`alerts (${alerts.url}): ${alerts.problem}`);
          } else {
            const body = alerts.body as AlertsBody;
            const firing = (body.alerts ?? []).filter((alert) => alert.firing);
            console.log(
              `alerts (${alerts.url}): ${firing.length ? `${firing.length} firing` : "none firing"}`,
            );
            if (firing.length) {
              console.log(formatTable(
                ["alert", "severity", "summary", "value", "threshold"],
                firing.map((
                  a,
                ) => [a.id, a.severity, a.summary, String(a.value ?? ""), String(a.threshold ?? "")]),
              ));
            }
          }
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
      const actor = resolveActor(stringOption(args, "actor"));
      return await withDatabase(async (sql) => {
        say(`resume: ROLLBACK_MODE off (as ${actor})`);
        const change = await changeFlags(sql, {
          actor,
          action: "rollout.resume",
          plan: () => ({ ROLLBACK_MODE: { enabled: false } }),
        });
        printChange(change);
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
    summary: "check a phase's success criteria; exits 1 when any fails",
    usage:
      "usage: deno task rollout verify dark|limited|full|rollback [--since <ISO time>] [--grace <seconds>] [--skip-health]",
    details: [
      "Measures the window from --since (default: the last flag change when <phase> is the current one, else the",
      "last audited command that entered it) and prints each criterion with its value and threshold.",
      `--grace <s>      rollback only: ignore sends of a round already running (default ${THRESHOLDS.rollbackGraceSeconds})`,
      "--skip-health    do not require GET $DASHBOARD_URL/api/health to answer 200",
      "Criteria and thresholds: README.md (Rollout CLI) and RUNBOOK.md.",
    ].join("\n"),
    options: { since: "string", grace: "string", "skip-health": "boolean" },
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
      return await withDatabase(async (sql) => {
        say(`measuring the ${phaseName(phase)} criteria`);
        const verification = await verifyPhase(sql, phase, {
          since,
          graceSeconds: grace,
          skipHealth: args.options["skip-health"] === true,
        });
        printVerification(verification);
        return verification.passed ? 0 : 1;
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
      const actor = resolveActor(stringOption(args, "actor"));
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
        console.log(`\nrows created per day (UTC)\n${
          formatTable(
            ["day", "events", "recovery_cases", "job_queue"],
            run.daily.map((d) => [d.day, String(d.events), String(d.recovery_cases), String(d.job_queue)]),
          )
        }`);
        console.log(`\ninvariants\n${
          formatTable(
            ["check", "status", "count", "sample ids", "what it means"],
            run.findings.map((f) => [
              f.check_name,
              f.violations === 0 ? "PASS" : "FAIL",
              String(f.violations),
              list(f.sample_ids),
              f.description,
            ]),
          )
        }`);
        console.log(
          `\nintegrity run #${run.id}: ${
            run.status === "pass" ? "PASS" : `FAIL (${run.violations} violations)`
          } (stored in public.integrity_runs)`,
        );
        return run.status === "pass" ? 0 : 1;
      });
    },
  },
};

function overview(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return [
    "usage: deno task rollout <command> [options]   (deno task rollout help <command> for details)",
    "",
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    "",
    "Environment: DATABASE_URL (default: the local stack's, .local/stack.env), DASHBOARD_URL",
    "(default http://127.0.0.1:8000), OPS_TOKEN (for /api/alerts), ROLLOUT_ACTOR. Phases and incidents: RUNBOOK.md.",
  ].join("\n");
}

const commandHelp = (command: Command) =>
  `${command.usage}\n\n${command.summary}.\n${command.details}`.trimEnd();

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
      const topic = name === "help" ? rest[0] : undefined;
      if (topic !== undefined && !commands[topic]) {
        throw new CliError(`no command "${topic}".\n\n${overview()}`, 2);
      }
      console.log(topic ? commandHelp(commands[topic]) : overview());
      return name === undefined ? 2 : 0;
    }
    const command = commands[name];
    if (!command) throw new CliError(`unknown command "${name}".\n\n${overview()}`, 2);
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(commandHelp(command));
      return 0;
    }
    return await command.run(parseArgs(rest, command.options, command.usage), command.usage);
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`rollout: ${error.message}`);
      return error.exitCode;
    }
    console.error(`rollout: ${redactText((error as Error).message ?? String(error))}`);
    return 1;
  }
}
