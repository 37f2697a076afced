// The numbers of the rollout's success criteria (README "Rollout CLI" and RUNBOOK.md list them).
// The plan gave no figures for these; they are our choices. A criterion on a figure the ops
// endpoints also judge takes its number from web/ops/thresholds.ts (their defaults), so that an
// alert and `verify` never disagree about the same figure.
import { THRESHOLD_VARIABLES } from "../../web/ops/thresholds.ts";

const HOUR = 3600;

export const THRESHOLDS = {
  /** Dark launch: webhooks must actually arrive in the window. */
  minEventsReceived: 1,
  /** Share of the window's stored events that were processed into cases (when processing is on). */
  minProcessedShare: 0.99,
  /** Delivery success (public.ops_delivery_figures: sent ÷ tries): the complement of the
   * reminder_failure_rate alert's threshold. */
  minDeliverySuccess: Math.round((1 - THRESHOLD_VARIABLES.reminderFailureRate.default) * 10000) / 10000,
  /** A due job still waiting this long means the queue is backed up (the queue_oldest_due alert's). */
  maxOverdueMinutes: THRESHOLD_VARIABLES.queueOldestDueSeconds.default / 60,
  /** Rollback: a dispatch round already running when ROLLBACK_MODE turned on may still finish its
   * sends (DISPATCH_MAX_SECONDS 25 s + WHOP_TIMEOUT_MS 10 s); activity after this grace counts. */
  rollbackGraceSeconds: 40,
  /** How long each phase must be observed before `verify` judges it (RUNBOOK: dark 24–48 h, limited
   * one nudge schedule of 3–7 days, full a day; rollback two minutes after its grace). A shorter
   * window is "too early": seconds after a change every criterion would pass vacuously. */
  observationSeconds: {
    dark: 24 * HOUR,
    limited: 72 * HOUR,
    full: 24 * HOUR,
    rollback: 120,
  },
  /** Integrity checks look back this many days unless told otherwise (also the daily cron's window). */
  integrityDays: 7,
  /** How long status and verify wait for the dashboard's /api/health and /api/alerts. */
  httpTimeoutMs: 5000,
} as const;
