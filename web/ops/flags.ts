// The rollout flags as the ops endpoints report them: the runtime state in public.feature_flags (the
// same evaluation as SQL's private.flag_enabled) with this process's environment overrides on top.
import type { EnvReader } from "../../supabase/functions/_shared/config.ts";
import {
  type EnvFlagOverride,
  envFlagOverride,
  FLAG_NAMES,
  type FlagName,
} from "../../supabase/functions/_shared/flag_env.ts";
import type { OpsTx } from "./bounded_read.ts";

export interface FlagState {
  name: FlagName;
  enabled: boolean;
  rollout_percent: number;
  allowlist_size: number;
  env_override: EnvFlagOverride;
  /** on: for every company; partial: for a share or an allow-list; off. */
  effective: "on" | "partial" | "off";
  updated_at: string | null;
}

export async function readFlags(tx: OpsTx, env: EnvReader): Promise<FlagState[]> {
  const rows = await tx<
    {
      name: FlagName;
      enabled: boolean;
      rollout_percent: number;
      allowlist_size: number;
      on: boolean;
      updated_at: Date;
    }[]
  >`
    select name, enabled, rollout_percent, cardinality(company_allowlist) as allowlist_size,
           private.flag_enabled(name) as on, updated_at
    from public.feature_flags`;
  const byName = new Map(rows.map((row) => [row.name, row]));
  return FLAG_NAMES.map((name) => {
    const row = byName.get(name);
    const override = envFlagOverride(env, name);
    // The rollback switch is global; the scheduler's percentage applies per company, as
    // claim_due_jobs applies it (a scheduler at 20% is partial, at 0% off).
    const global = name === "ROLLBACK_MODE";
    let effective: FlagState["effective"] = !row?.on
      ? "off"
      : global || row.rollout_percent >= 100
      ? "on"
      : row.rollout_percent > 0 || row.allowlist_size > 0
      ? "partial"
      : "off";
    if (override === "forced_off") effective = "off";
    if (override === "forced_on") effective = "on";
    return {
      name,
      enabled: row?.enabled ?? false,
      rollout_percent: row?.rollout_percent ?? 0,
      allowlist_size: row?.allowlist_size ?? 0,
      env_override: override,
      effective,
      updated_at: row?.updated_at?.toISOString() ?? null,
    };
  });
}

export const flagIs = (flags: FlagState[], name: FlagName, state: FlagState["effective"]) =>
  flags.find((flag) => flag.name === name)?.effective === state;

/** A flag's effective state in a snapshot, or null when the flags could not be read. */
export const flagEffective = (snapshot: { flags?: FlagState[] }, name: FlagName) =>
  snapshot.flags?.find((flag) => flag.name === name)?.effective ?? null;
