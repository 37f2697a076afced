// What a process's environment says about the rollout flags (ARCHITECTURE section 6): a flag variable
// set to `false` forces that flag off, and `ROLLBACK_MODE=true` forces every processing flag off. The
// runtime state itself lives in public.feature_flags (private.flag_enabled in SQL).
import type { EnvReader } from "./config.ts";

export const FLAG_NAMES = [
  "WEBHOOK_PROCESSING_ENABLED",
  "SCHEDULER_ENABLED",
  "NOTIFICATIONS_ENABLED",
  "ROLLBACK_MODE",
] as const;
export type FlagName = typeof FLAG_NAMES[number];

export type EnvFlagOverride = "forced_off" | "forced_on" | null;

export function envFlagOverride(env: EnvReader, name: FlagName): EnvFlagOverride {
  const rollback = env.get("ROLLBACK_MODE")?.trim() === "true";
  if (name === "ROLLBACK_MODE") return rollback ? "forced_on" : null;
  return rollback || env.get(name)?.trim() === "false" ? "forced_off" : null;
}
