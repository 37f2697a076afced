// Webhook traffic over the last hour: stored events (events.received_at), duplicates and rejections
// by reason (public.webhook_counters, per minute), processing latency (received → processed) and
// events that processing should have taken but has not.
import type { EnvReader } from "../../supabase/functions/_shared/config.ts";
import { envFlagOverride } from "../../supabase/functions/_shared/flag_env.ts";
import { type OpsTx, ratio, seconds } from "./bounded_read.ts";
import type { Thresholds } from "./thresholds.ts";

/** Rejection reasons that mean the signature did not check out (whop-webhook/guards.ts). */
export const SIGNATURE_REASONS = [
  "missing_signature",
  "malformed_signature",
  "stale_timestamp",
  "bad_signature",
];

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
  const [hour] = await tx<{ stored: number; processed: number; p50: string; p95: string; p99: string }[]>`
    select count(*)::int as stored, count(processed_at)::int as processed,
           percentile_cont(0.5) within group (order by extract(epoch from processed_at - received_at)) as p50,
           percentile_cont(0.95) within group (order by extract(epoch from processed_at - received_at)) as p95,
           percentile_cont(0.99) within group (order by extract(epoch from processed_at - received_at)) as p99
    from public.events
    where received_at > now() - interval '1 hour'`;
  const counters = await tx<{ kind: "duplicate" | "rejected"; reason: string; count: string }[]>`
    select kind, reason, sum(count) as count from public.webhook_counters
    where minute > date_trunc('minute', now()) - interval '1 hour'
    group by kind, reason`;
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

  const rejectedByReason: Record<string, number> = {};
  let duplicates = 0;
  for (const row of counters) {
    if (row.kind === "duplicate") duplicates += Number(row.count);
    else rejectedByReason[row.reason] = (rejectedByReason[row.reason] ?? 0) + Number(row.count);
  }
  const rejected = Object.values(rejectedByReason).reduce((sum, n) => sum + n, 0);
  const signatureFailures = SIGNATURE_REASONS.reduce(
    (sum, reason) => sum + (rejectedByReason[reason] ?? 0),
    0,
  );
  const deliveries = hour.stored + duplicates + rejected;
  const age = last.age === null ? null : Number(last.age);
  return {
    last_received_at: last.at?.toISOString() ?? null,
    last_age_seconds: seconds(age),
    silent: age !== null && age > t.webhookSilenceSeconds && age <= t.webhookLookbackHours * 3600,
    last_hour: {
      deliveries,
      stored: hour.stored,
      processed: hour.processed,
      duplicates,
      rejected,
      rejected_by_reason: rejectedByReason,
      signature_failures: signatureFailures,
      success_rate: ratio(hour.stored + duplicates, deliveries),
      duplicate_rate: ratio(duplicates, hour.stored + duplicates),
      rejection_rate: ratio(rejected, deliveries),
      signature_failure_rate: ratio(signatureFailures, deliveries),
      processing_latency_seconds: {
        p50: seconds(hour.p50),
        p95: seconds(hour.p95),
        p99: seconds(hour.p99),
      },
    },
    unprocessed: {
      total: backlog.total,
      stuck: backlog.stuck,
      oldest_stuck_age_seconds: seconds(backlog.oldest),
    },
  };
}
