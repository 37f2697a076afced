// Webhook traffic over the last hour: stored events, duplicates and rejections by reason, their
// rates and the processing latency (received → processed), all from public.ops_webhook_figures
// (the SQL definition; it alone reads public.webhook_counters); the last webhook's age and events
// that processing should have taken but has not.
import type { EnvReader } from "../../supabase/functions/_shared/config.ts";
import { envFlagOverride } from "../../supabase/functions/_shared/flag_env.ts";
import { type OpsTx, seconds } from "./bounded_read.ts";
import type { Thresholds } from "./thresholds.ts";

export interface WebhookStats {
  last_received_at: string | null;
  last_age_seconds: number | null;
  /** Webhooks had been arriving (one within the lookback) and none came for the silence threshold. */
  silent: boolean;
  last_hour: {
    deliveries: number;
    stored: number;
    processed: number;
    duplicates: number;
    rejected: number;
    rejected_by_reason: Record<string, number>;
    signature_failures: number;
    success_rate: number | null;
    duplicate_rate: number | null;
    rejection_rate: number | null;
    signature_failure_rate: number | null;
    processing_latency_seconds: { p50: number | null; p95: number | null; p99: number | null };
  };
  unprocessed: { total: number; stuck: number; oldest_stuck_age_seconds: number | null };
}

export async function readWebhookStats(tx: OpsTx, env: EnvReader, t: Thresholds): Promise<WebhookStats> {
  const [last] = await tx<{ at: Date | null; age: string | null }[]>`
    select max(received_at) as at, extract(epoch from now() - max(received_at)) as age from public.events`;
  // The windowed figures and their rates are defined once, in SQL (public.ops_webhook_figures).
  const [hour] = await tx<
    (Omit<WebhookStats["last_hour"], "processing_latency_seconds"> & {
      latency_p50_seconds: number | null;
      latency_p95_seconds: number | null;
      latency_p99_seconds: number | null;
    })[]
  >`select * from public.ops_webhook_figures(now() - interval '1 hour')`;
  // Stuck: processing is on for the event's company and it still waits. Counted up to a bound.
  const processingForcedOff = envFlagOverride(env, "WEBHOOK_PROCESSING_ENABLED") === "forced_off";
  const [backlog] = await tx<{ total: number; stuck: number; oldest: string | null }[]>`
    select (select count(*)::int from public.events where processed_at is null) as total,
           count(*)::int as stuck, extract(epoch from now() - min(received_at)) as oldest
    from (
      select received_at from public.events
      where processed_at is null and not ${processingForcedOff}
        and received_at < now() - make_interval(secs => ${t.processingBacklogSeconds})
        and private.flag_enabled('WEBHOOK_PROCESSING_ENABLED', company_id)
      limit 100000
    ) stuck`;

  const age = last.age === null ? null : Number(last.age);
  return {
    last_received_at: last.at?.toISOString() ?? null,
    last_age_seconds: seconds(age),
    silent: age !== null && age > t.webhookSilenceSeconds && age <= t.webhookLookbackHours * 3600,
    last_hour: {
      deliveries: hour.deliveries,
      stored: hour.stored,
      processed: hour.processed,
      duplicates: hour.duplicates,
      rejected: hour.rejected,
      rejected_by_reason: hour.rejected_by_reason,
      signature_failures: hour.signature_failures,
      success_rate: hour.success_rate,
      duplicate_rate: hour.duplicate_rate,
      rejection_rate: hour.rejection_rate,
      signature_failure_rate: hour.signature_failure_rate,
      processing_latency_seconds: {
        p50: hour.latency_p50_seconds,
        p95: hour.latency_p95_seconds,
        p99: hour.latency_p99_seconds,
      },
    },
    unprocessed: {
      total: backlog.total,
      stuck: backlog.stuck,
      oldest_stuck_age_seconds: seconds(backlog.oldest),
    },
  };
}
