// The integrity checks: private.run_integrity_checks (the same function pg_cron runs daily) stores
// a run with per-day counts and one finding per invariant; this reads them back.
import type { Sql } from "../lib/database.ts";

export interface IntegrityFinding {
  check_name: string;
  description: string;
  violations: number;
  sample_ids: string[];
}
export interface DailyCount {
  day: string;
  events: number;
  recovery_cases: number;
  job_queue: number;
}
export interface IntegrityRun {
  id: number;
  status: "pass" | "fail";
  violations: number;
  since: Date;
  daily: DailyCount[];
  findings: IntegrityFinding[];
}

export async function runIntegrityChecks(
  sql: Sql,
  since: Date,
  source: "cli" | "verify",
): Promise<IntegrityRun> {
  const [{ id }] = await sql<
    { id: number }[]
  >`select private.run_integrity_checks(${since}, ${source}) as id`;
  const [run] = await sql<
    { status: "pass" | "fail"; violations: number; since: Date; daily_counts: DailyCount[] }[]
  >`
    select status, violations::int as violations, since, daily_counts from public.integrity_runs where id = ${id}`;
  const findings = await sql<IntegrityFinding[]>`
    select check_name, description, violations::int as violations, sample_ids
    from public.integrity_findings where run_id = ${id} order by check_name`;
  return {
    id: Number(id),
    status: run.status,
    violations: run.violations,
    since: run.since,
    daily: run.daily_counts,
    findings: [...findings],
  };
}
