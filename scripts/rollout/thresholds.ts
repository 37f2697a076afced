// Every number the rollout's success criteria use, in one place (README "Rollout CLI" and
// RUNBOOK.md list them). The plan gave no figures for these; they are our choices.

export const THRESHOLDS = {
  /** Dark launch: webhooks must actually arrive in the window. */
  minEventsReceived: 1,
  /** Share of the window's stored events that were processed into cases (when processing is on). */
  minProcessedShare: 0.99,
  /** Delivery success: sent ÷ (sent + retried + failed + dead) attempts in the window. */
  minDeliverySuccess: 0.95,
  /** A due job still waiting this long means the queue is backed up. */
  maxOverdueMinutes: 10,
  /** Rollback: a dispatch round already running when ROLLBACK_MODE turned on may still finish its
   * sends (DISPATCH_MAX_SECONDS 25 s + WHOP_TIMEOUT_MS 10 s); activity after this grace counts. */
  rollbackGraceSeconds: 40,
  /** Integrity checks look back this many days unless told otherwise (also the daily cron's window). */
  integrityDays: 7,
  /** How long status and verify wait for the dashboard's /api/health and /api/alerts. */
  httpTimeoutMs: 5000,
} as const;
