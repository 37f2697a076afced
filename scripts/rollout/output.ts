// What the rollout CLI prints: progress lines, the flags, a change before/after, a verification,
// an integrity run and the dashboard's answers, as plain-text tables.
import { formatTable } from "../lib/table.ts";
import { type Coverage, FLAG_NAMES, type FlagChange, type Flags } from "./flags.ts";
import type { IntegrityRun } from "./integrity.ts";
import { type AlertsBody, describeHealth, type OpsAnswer } from "./ops_http.ts";
import { describePhase } from "./phases.ts";
import { formatDuration, phaseName, type Verification } from "./verify.ts";

export const say = (line: string) => console.log(`==> ${line}`);

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

export function printChange(change: FlagChange) {
  const state = (flags: Flags, name: typeof FLAG_NAMES[number]) => {
    const flag = flags[name];
    if (!flag.enabled) return "off";
    if (name === "ROLLBACK_MODE") return "on";
    return `on ${flag.rollout_percent}%` +
      (flag.company_allowlist.length ? ` +[${list(flag.company_allowlist)}]` : "");
  };
  console.log(`\n${
    formatTable(
      ["flag", "before", "after", "this run"],
      FLAG_NAMES.map((
        name,
      ) => [
        name,
        state(change.before, name),
        state(change.after, name),
        change.changed.includes(name) ? "changed" : "unchanged",
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

/** What the flags reach now: "covers 2 of 12 companies" for processing, the scheduler,
 * notifications, and the companies whose nudges go out (scheduled and notified). */
export function printCoverage(coverage: Coverage[]) {
  const label: Record<Coverage["name"], string> = {
    WEBHOOK_PROCESSING_ENABLED: "WEBHOOK_PROCESSING_ENABLED",
    SCHEDULER_ENABLED: "SCHEDULER_ENABLED",
    NOTIFICATIONS_ENABLED: "NOTIFICATIONS_ENABLED",
    ROLLBACK_MODE: "",
    NUDGES: "nudges sent (scheduled and notified)",
  };
  const shown = coverage.filter((row) => label[row.name]);
  const anyListed = shown.some((row) => row.listed > 0);
  const rows = shown.map((row) => [
    label[row.name],
    `covers ${row.covered} of ${row.companies} companies`,
    ...(anyListed ? [row.listed ? `${row.listed} of them by the allow-list` : ""] : []),
  ]);
  console.log(
    `\ncoverage (the per-company hash SQL applies, private.company_bucket)\n${
      formatTable(["flag", "reach", ...(anyListed ? ["allow-list"] : [])], rows)
    }`,
  );
  if (coverage.some((row) => row.rollback_mode)) {
    console.log(
      "ROLLBACK_MODE is on: none of them is processed or sent to until `deno task rollout resume`.",
    );
  }
}

export function printFlags(flags: Flags) {
  console.log(`\nfeature flags\n${formatTable(FLAG_HEADER, flagRows(flags))}`);
}

export function printVerification(verification: Verification) {
  const name = phaseName(verification.phase);
  console.log(`\n${name}: success criteria since ${verification.since.toISOString()}\n`);
  console.log(formatTable(
    ["criterion", "measured", "threshold", "result"],
    verification.criteria.map((c) => [c.name, c.measured, c.threshold, c.result.toUpperCase()]),
  ));
  const observed = `observed for ${formatDuration(verification.observedSeconds)}; the phase needs ${
    formatDuration(verification.requiredSeconds)
  }`;
  if (verification.verdict === "fail") {
    const failed = verification.criteria.filter((c) => c.result === "fail").length;
    console.log(`\n${name}: FAIL (${failed} of ${verification.criteria.length} criteria failed)`);
  } else if (verification.verdict === "too_early") {
    const ready = new Date(verification.since.getTime() + verification.requiredSeconds * 1000);
    console.log(
      `\n${name}: TOO EARLY (not a pass): ${observed}. Nothing failed so far; verify again after ` +
        `${ready.toISOString()} (or judge a shorter window with --min-observation).`,
    );
  } else {
    console.log(`\n${name}: PASS (${observed})`);
  }
}

/** /api/health and /api/alerts as the dashboard answered them. */
export function printOps(health: OpsAnswer, alerts: OpsAnswer) {
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

/** The per-day counts and the invariants of an integrity run. */
export function printIntegrity(run: IntegrityRun) {
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
}
