// Reading and changing the runtime feature flags (public.feature_flags), each change in one
// transaction with the flags locked and an operator entry in public.audit_log (no company; actor,
// action, and the four flags before and after).
import type postgres from "postgres";
import { FLAG_NAMES, type FlagName } from "../../supabase/functions/_shared/flag_env.ts";
import type { Sql } from "../lib/database.ts";
import { recordOperatorAction } from "./audit.ts";

export { FLAG_NAMES, type FlagName };

export interface FlagState {
  enabled: boolean;
  rollout_percent: number;
  company_allowlist: string[];
}
export interface FlagRow extends FlagState {
  name: FlagName;
  updated_by: string;
  updated_at: Date;
}
export type Flags = Record<FlagName, FlagRow>;
export type FlagChanges = Partial<Record<FlagName, Partial<FlagState>>>;

/** What the audit log keeps of the flags: their state, by name. */
export type FlagSnapshot = Record<FlagName, FlagState>;

export async function readFlags(sql: Sql, lock = false): Promise<Flags> {
  const rows = lock
    ? await sql<FlagRow[]>`select name, enabled, rollout_percent, company_allowlist, updated_by, updated_at
                           from public.feature_flags order by name for update`
    : await sql<FlagRow[]>`select name, enabled, rollout_percent, company_allowlist, updated_by, updated_at
                           from public.feature_flags order by name`;
  const flags = Object.fromEntries(rows.map((row) => [row.name, { ...row }])) as Flags;
  const missing = FLAG_NAMES.filter((name) => !flags[name]);
  if (missing.length > 0) {
    throw new Error(`public.feature_flags lacks ${missing.join(", ")}: are the migrations applied?`);
  }
  return flags;
}

export function snapshot(flags: Flags): FlagSnapshot {
  return Object.fromEntries(FLAG_NAMES.map((name) => {
    const { enabled, rollout_percent, company_allowlist } = flags[name];
    return [name, { enabled, rollout_percent, company_allowlist }];
  })) as FlagSnapshot;
}

/** A flag's state with `change` applied (an undefined field leaves that field as it is). */
export function applyChange(state: FlagState, change: Partial<FlagState>): FlagState {
  const given = Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined));
  return { ...state, ...given };
}

const sameState = (a: FlagState, b: FlagState) =>
  a.enabled === b.enabled && a.rollout_percent === b.rollout_percent &&
  a.company_allowlist.join(",") === b.company_allowlist.join(",");

export interface FlagChange {
  before: Flags;
  after: Flags;
  changed: FlagName[];
  auditId: number;
}

/**
 * Applies `plan(current flags)` atomically and audits it as `action` by `actor` (also when nothing
 * changed: the operator ran the command). Unchanged flags keep their updated_at.
 */
export async function changeFlags(
  sql: postgres.Sql,
  options: {
    actor: string;
    action: string;
    plan: (current: Flags) => FlagChanges;
    details?: Record<string, unknown>;
  },
): Promise<FlagChange> {
  return await sql.begin(async (tx) => {
    const before = await readFlags(tx, true);
    const changes = options.plan(before);
    const changed: FlagName[] = [];
    for (const name of FLAG_NAMES) {
      const change = changes[name];
      if (!change) continue;
      const next = applyChange(snapshot(before)[name], change);
      if (sameState(next, before[name])) continue;
      changed.push(name);
      await tx`update public.feature_flags
               set enabled = ${next.enabled}, rollout_percent = ${next.rollout_percent},
                   company_allowlist = ${next.company_allowlist}, updated_by = ${options.actor}, updated_at = now()
               where name = ${name}`;
    }
    const after = await readFlags(tx);
    const auditId = await recordOperatorAction(tx, {
      actor: options.actor,
      action: options.action,
      targetType: "feature_flags",
      targetId: changed.join(",") || null,
      before: { flags: snapshot(before) },
      after: { flags: snapshot(after), ...options.details },
    });
    return { before, after, changed, auditId };
  }) as FlagChange;
}

/** Flag variables set in this shell and what they do: only `false` (or ROLLBACK_MODE `true`) forces
 * anything, and the functions read the same names from their own environment. */
export function environmentOverrides(env: { get(name: string): string | undefined } = Deno.env): string[] {
  return FLAG_NAMES.flatMap((name) => {
    const value = env.get(name)?.trim();
    if (value === undefined || value === "") return [];
    const forces = name === "ROLLBACK_MODE" ? value === "true" : value === "false";
    return [`${name}=${value} (${forces ? "forces processing off" : "no effect"})`];
  });
}

/** How many companies a flag covers as configured (public.flag_coverage: the per-company hash
 * claim_due_jobs applies); NUDGES = scheduled and notified, whose due jobs are sent. */
export interface Coverage {
  name: FlagName | "NUDGES";
  companies: number;
  covered: number;
  listed: number;
  rollback_mode: boolean;
}

export async function readCoverage(sql: Sql): Promise<Coverage[]> {
  return [
    ...await sql<
      Coverage[]
    >`select name, companies, covered, listed, rollback_mode from public.flag_coverage()`,
  ];
}
