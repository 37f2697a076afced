// The rollout plan's phases as flag states: which phase the flags describe now, and the flag
// changes each phase command makes. ROLLBACK_MODE is separate: rollback turns it on and leaves the
// other flags alone, so resume turns it off and the phase before the rollback is back.
import { CliError } from "../lib/database.ts";
import type { FlagChanges, Flags, FlagState } from "./flags.ts";

export type Phase = "off" | "dark" | "limited" | "full" | "rollback" | "custom";
export type VerifiablePhase = "dark" | "limited" | "full" | "rollback";

export const VERIFIABLE_PHASES: Record<string, VerifiablePhase> = {
  dark: "dark",
  "dark-launch": "dark",
  limited: "limited",
  full: "full",
  rollback: "rollback",
};

/** The audit actions that enter each phase (for the default verify window of a past phase). */
export const PHASE_ACTIONS: Record<VerifiablePhase, string[]> = {
  dark: ["rollout.dark_launch"],
  limited: ["rollout.ramp_scheduler", "rollout.ramp_notifications"],
  full: ["rollout.full"],
  rollback: ["rollout.rollback"],
};

const fullyOn = (flag: FlagState) => flag.enabled && flag.rollout_percent === 100;

export function currentPhase(flags: Flags): Phase {
  const processing = flags.WEBHOOK_PROCESSING_ENABLED;
  const scheduler = flags.SCHEDULER_ENABLED;
  const notifications = flags.NOTIFICATIONS_ENABLED;
  if (flags.ROLLBACK_MODE.enabled) return "rollback";
  if (!processing.enabled && !scheduler.enabled && !notifications.enabled) return "off";
  if (!fullyOn(processing)) return "custom";
  if (!scheduler.enabled && !notifications.enabled) return "dark";
  if (fullyOn(scheduler) && fullyOn(notifications)) return "full";
  if (scheduler.enabled) return "limited";
  return "custom";
}

const share = (flag: FlagState) =>
  !flag.enabled ? "off" : `${flag.rollout_percent}%` +
    (flag.company_allowlist.length ? ` + ${flag.company_allowlist.length} listed` : "");

export function describePhase(flags: Flags): string {
  const phase = currentPhase(flags);
  const detail = `processing ${share(flags.WEBHOOK_PROCESSING_ENABLED)}, scheduler ${
    share(flags.SCHEDULER_ENABLED)
  }, notifications ${share(flags.NOTIFICATIONS_ENABLED)}`;
  const names: Record<Phase, string> = {
    off: "off (nothing processed or sent; webhooks are stored)",
    dark: "dark launch",
    limited: "limited traffic",
    full: "full",
    rollback: "rollback (ROLLBACK_MODE on: nothing processed, claimed or sent)",
    custom: "custom (matches no phase of the plan)",
  };
  return `${names[phase]} — ${detail}`;
}

const everyone = { rollout_percent: 100, company_allowlist: [] as string[] };

/** Dark launch: events are processed into cases, nothing is claimed or sent. */
export const darkLaunch = (): FlagChanges => ({
  WEBHOOK_PROCESSING_ENABLED: { enabled: true, ...everyone },
  SCHEDULER_ENABLED: { enabled: false },
  NOTIFICATIONS_ENABLED: { enabled: false },
});

/** Everything on, for every company. */
export const fullRollout = (): FlagChanges => ({
  WEBHOOK_PROCESSING_ENABLED: { enabled: true, ...everyone },
  SCHEDULER_ENABLED: { enabled: true, ...everyone },
  NOTIFICATIONS_ENABLED: { enabled: true, ...everyone },
});

/**
 * Scheduler or notifications on for `percent` of companies (stable hash of the company id) plus
 * `companies` (replacing the allow-list when given). A company on the notifications allow-list is
 * put on the scheduler's too: a nudge is only sent once the scheduler claims it.
 */
export function ramp(
  target: "scheduler" | "notifications",
  percent: number,
  companies: string[] | undefined,
): (current: Flags) => FlagChanges {
  return (current) => {
    if (target === "scheduler") {
      return { SCHEDULER_ENABLED: { enabled: true, rollout_percent: percent, company_allowlist: companies } };
    }
    const changes: FlagChanges = {
      NOTIFICATIONS_ENABLED: { enabled: true, rollout_percent: percent, company_allowlist: companies },
    };
    if (companies?.length) {
      const listed = current.SCHEDULER_ENABLED.company_allowlist;
      changes.SCHEDULER_ENABLED = {
        company_allowlist: [...listed, ...companies.filter((id) => !listed.includes(id))],
      };
    }
    return changes;
  };
}

export function parsePercent(value: string | undefined, usage: string): number {
  if (value === undefined) throw new CliError(`a percentage is required.\n${usage}`, 2);
  const percent = Number(value.replace(/%$/, ""));
  if (!/^\d+%?$/.test(value) || !Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new CliError(`"${value}" is not a percentage: give a whole number from 0 to 100.`, 2);
  }
  return percent;
}

/** The same format the companies table enforces (Whop business ids). */
const COMPANY_ID = /^biz_[A-Za-z0-9_-]{1,64}$/;

export function parseCompanies(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const ids = value.split(",").map((id) => id.trim()).filter(Boolean);
  const bad = ids.filter((id) => !COMPANY_ID.test(id));
  if (bad.length > 0) {
    throw new CliError(
      `not a Whop company id: ${bad.map((id) => `"${id}"`).join(", ")}. Company ids look like biz_XXXXXXXX ` +
        "(comma-separated, no spaces needed).",
      2,
    );
  }
  return [...new Set(ids)];
}
