// The optional alert notifier: every interval the dashboard process evaluates the alert rules and
// posts each transition (firing, resolved) to a Slack-compatible webhook as {"text": ...}. Only the
// rule's id, severity, summary, value and threshold are sent: never evidence, PII or secrets. A
// transition whose post fails is posted again at the next evaluation; rules that could not be
// evaluated (the database is down) keep their previous state.
import { log } from "../../supabase/functions/_shared/log.ts";
import type { Alert, AlertReport } from "./alerts.ts";

/** ALERT_EVALUATION_INTERVAL_SECONDS when unset: part of how fast an outage pages (tests/unit/ops_test.ts). */
export const DEFAULT_EVALUATION_INTERVAL_SECONDS = 60;

export interface NotifierOptions {
  url: string;
  intervalMs: number;
  evaluate: () => Promise<AlertReport>;
  /** Names the sender in messages (APP_ENV). */
  environment: string;
}

export function alertMessage(alert: Alert, environment: string): string {
  const state = alert.firing ? "FIRING" : "RESOLVED";
  return `[${alert.severity}] ${state} ${alert.id} (${environment}): ${alert.summary}. ` +
    `Value ${alert.value ?? "n/a"}, threshold ${alert.threshold}.`;
}

export function startAlertNotifier(options: NotifierOptions) {
  const known = new Map<string, boolean>();
  let running: Promise<void> | null = null;
  let stopped = false;

  async function post(text: string): Promise<boolean> {
    try {
      const response = await fetch(options.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text }),
        signal: AbortSignal.timeout(5000),
      });
      await response.body?.cancel();
      if (!response.ok) log.warn("alert notification refused", { status: response.status });
      return response.ok;
    } catch (error) {
      log.warn("alert notification failed", { error: (error as Error).name });
      return false;
    }
  }

  async function tick() {
    const report = await options.evaluate();
    for (const alert of report.alerts) {
      if ("skipped" in alert.evidence) continue;
      const before = known.get(alert.id) ?? false; // nothing known counts as not firing
      if (alert.firing === before) continue;
      if (await post(alertMessage(alert, options.environment))) known.set(alert.id, alert.firing);
    }
  }

  const timer = setInterval(() => {
    if (running || stopped) return;
    running = tick()
      .catch((error) => log.error("alert evaluation failed", { error }))
      .finally(() => running = null);
  }, options.intervalMs);

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
