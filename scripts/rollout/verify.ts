// The success criteria of each phase, measured from the database (and the dashboard's health):
// each criterion has a measured value, its threshold and pass/fail. Thresholds: ./thresholds.ts.
import type { Sql } from "../lib/database.ts";
import { readFlags } from "./flags.ts";
import { runIntegrityChecks } from "./integrity.ts";
import { measureWindow, type WindowMetrics } from "./metrics.ts";
import { describeHealth, fetchHealth } from "./ops_http.ts";
import { currentPhase, PHASE_ACTIONS, type VerifiablePhase } from "./phases.ts";
import { THRESHOLDS } from "./thresholds.ts";

export type Result = "pass" | "fail" | "info" | "skipped";
export interface Criterion {
  name: string;
  measured: string;
  threshold: string;
  result: Result;
}
/** pass: every criterion holds over a long enough window; too_early: none fails, but the window is
 * shorter than the phase's observation time, so a pass would mean nothing yet. */
export type Verdict = "pass" | "fail" | "too_early";
export interface Verification {
  phase: VerifiablePhase;
  since: Date;
  criteria: Criterion[];
  verdict: Verdict;
  passed: boolean;
  /** Seconds from `since` to the database's now, and how many the phase needs. */
  observedSeconds: number;
  requiredSeconds: number;
}
export interface VerifyOptions {
  since?: Date;
  graceSeconds?: number;
  skipHealth?: boolean;
  /** The observation time to require instead of the phase's (THRESHOLDS.observationSeconds). */
  minObservationSeconds?: number;
}

const PHASE_NAMES: Record<VerifiablePhase, string> = {
  dark: "dark launch",
  limited: "limited traffic",
  full: "full",
  rollback: "rollback",
};

const pct = (value: number) => `${(value * 100).toFixed(1)}%`;
const atMost = (name: string, measured: number, max: number): Criterion => ({
  name,
  measured: String(measured),
  threshold: max === 0 ? "= 0" : `<= ${max}`,
  result: measured <= max ? "pass" : "fail",
});
const atLeast = (name: string, measured: number, min: number): Criterion => ({
  name,
  measured: String(measured),
  threshold: `>= ${min}`,
  result: measured >= min ? "pass" : "fail",
});
/** A share with no denominator yet passes: there is nothing to judge (the observation time keeps
 * such a window from passing too early). */
const shareAtLeast = (name: string, part: number, whole: number, min: number): Criterion => ({
  name,
  measured: whole === 0 ? "n/a (none in window)" : `${pct(part / whole)} (${part}/${whole})`,
  threshold: `>= ${pct(min)}`,
  result: whole === 0 || part / whole >= min ? "pass" : "fail",
});

/**
 * The window of a verification: from `--since`, else from the last flag change when verifying the
 * current phase, else from the last audited command that entered the phase.
 */
export async function defaultSince(sql: Sql, phase: VerifiablePhase): Promise<Date> {
  const flags = await readFlags(sql);
  const lastChange = new Date(Math.max(...Object.values(flags).map((flag) => flag.updated_at.getTime())));
  if (currentPhase(flags) === phase) {
    // Phase commands during a rollback only prepare the resume; the rollback began with its flag.
    return phase === "rollback" ? flags.ROLLBACK_MODE.updated_at : lastChange;
  }
  const [entered] = await sql<{ created_at: Date }[]>`
    select created_at from public.audit_log
    where company_id is null and action = any (${PHASE_ACTIONS[phase]})
    order by created_at desc limit 1`;
  return entered?.created_at ?? lastChange;
}

export async function verifyPhase(
  sql: Sql,
  phase: VerifiablePhase,
  options: VerifyOptions = {},
): Promise<Verification> {
  const since = options.since ?? await defaultSince(sql, phase);
  const grace = phase === "rollback" ? options.graceSeconds ?? THRESHOLDS.rollbackGraceSeconds : 0;
  const activeSince = new Date(since.getTime() + grace * 1000);
  // The database's clock, as `since` comes from it (flag changes, audit entries).
  const [{ now }] = await sql<{ now: Date }[]>`select now() as now`;
  const observedSeconds = Math.max(0, (now.getTime() - since.getTime()) / 1000);
  const requiredSeconds = options.minObservationSeconds ?? THRESHOLDS.observationSeconds[phase] + grace;
  const flags = await readFlags(sql);
  const actual = currentPhase(flags);
  const m = await measureWindow(sql, since, activeSince, THRESHOLDS.maxOverdueMinutes);

  const criteria: Criterion[] = [{
    name: "flags are in this phase",
    measured: actual,
    threshold: phase,
    result: actual === phase ? "pass" : "fail",
  }];
  criteria.push(...phaseCriteria(phase, m, grace));
  if (phase !== "rollback") {
    const integrity = await runIntegrityChecks(sql, since, "verify");
    for (const finding of integrity.findings) {
      criteria.push({
        ...atMost(`integrity: ${finding.check_name}`, finding.violations, 0),
        measured: finding.violations === 0
          ? "0"
          : `${finding.violations} (e.g. ${finding.sample_ids.slice(0, 3).join(", ")})`,
      });
    }
  }
  criteria.push(await healthCriterion(options.skipHealth));
  // A failure is one whatever the window; a pass needs the whole observation time behind it.
  const verdict: Verdict = criteria.some((c) => c.result === "fail")
    ? "fail"
    : observedSeconds < requiredSeconds
    ? "too_early"
    : "pass";
  return {
    phase,
    since,
    criteria,
    verdict,
    passed: verdict === "pass",
    observedSeconds,
    requiredSeconds,
  };
}

function phaseCriteria(phase: VerifiablePhase, m: WindowMetrics, grace: number): Criterion[] {
  const processed = shareAtLeast(
    "stored webhooks processed into cases",
    m.events_processed,
    m.events_received,
    THRESHOLDS.minProcessedShare,
  );
  // The rate as SQL defines it (public.ops_delivery_figures), the same the alerts judge.
  const delivery: Criterion = {
    name: "delivery success (sent ÷ tries)",
    measured: m.success_rate === null
      ? "n/a (no try in window)"
      : `${
        pct(m.success_rate)
      } (${m.sent}/${m.tries}; ${m.retried} retried, ${m.failed} failed, ${m.dead} dead)`,
    threshold: `>= ${pct(THRESHOLDS.minDeliverySuccess)}`,
    result: m.success_rate === null || m.success_rate >= THRESHOLDS.minDeliverySuccess ? "pass" : "fail",
  };
  switch (phase) {
    case "dark":
      return [
        atLeast("webhooks received", m.events_received, THRESHOLDS.minEventsReceived),
        processed,
        { name: "cases opened", measured: String(m.cases_opened), threshold: "(info)", result: "info" },
        atMost("jobs claimed by the scheduler", m.jobs_dispatched_since, 0),
        atMost("notifications sent", m.sent, 0),
      ];
    case "limited":
      return [
        processed,
        atMost("sent to companies outside the rollout", m.sent_outside_rollout, 0),
        atMost("suppressed inside the rollout", m.suppressed_inside_rollout, 0),
        {
          name: "suppressed outside the rollout",
          measured: String(m.suppressed_outside_rollout),
          threshold: "(info)",
          result: "info",
        },
        { name: "notifications sent", measured: String(m.sent), threshold: "(info)", result: "info" },
        delivery,
      ];
    case "full":
      return [
        processed,
        atMost("suppressed by the rollout", m.suppressed_inside_rollout + m.suppressed_outside_rollout, 0),
        { name: "notifications sent", measured: String(m.sent), threshold: "(info)", result: "info" },
        delivery,
        atMost(`due jobs waiting > ${THRESHOLDS.maxOverdueMinutes} min`, m.overdue_jobs, 0),
      ];
    case "rollback": {
      const after = grace > 0 ? ` (after ${grace} s grace)` : "";
      return [
        atMost(`events processed${after}`, m.events_processed_since, 0),
        atMost(`jobs claimed${after}`, m.jobs_dispatched_since, 0),
        atMost(`delivery attempts${after}`, m.attempts_since, 0),
        {
          name: "webhooks stored meanwhile (processed on resume)",
          measured: String(m.events_received),
          threshold: "(info)",
          result: "info",
        },
      ];
    }
  }
}

async function healthCriterion(skip?: boolean): Promise<Criterion> {
  const name = "dashboard /api/health";
  if (skip) {
    return { name, measured: "not checked (--skip-health)", threshold: "HTTP 200", result: "skipped" };
  }
  const health = await fetchHealth();
  return {
    name,
    measured: describeHealth(health),
    threshold: "HTTP 200",
    result: health.status === 200 ? "pass" : "fail",
  };
}

export function phaseName(phase: VerifiablePhase): string {
  return PHASE_NAMES[phase];
}

/** A duration as people say it: "45 s", "12 min", "24 h", "3 d" (rounded down). */
export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${Math.floor(seconds)} s`;
  if (seconds < 2 * 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 72 * 3600) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86_400)} d`;
}
