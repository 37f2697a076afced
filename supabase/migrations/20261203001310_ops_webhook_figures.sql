-- One definition of the webhook delivery figures (issue 11) that /api/health/webhooks, the alert
-- webhook_error_rate and /api/metrics read: stored events and their processing latency
-- (public.events), duplicates and rejections by reason (public.webhook_counters, per minute).
-- Reading the counters only through this function leaves one place to change when the way
-- rejections are counted changes (the signature reasons are those of whop-webhook/guards.ts).
--
-- deliveries = stored + duplicates + rejected; success_rate = (stored + duplicates) / deliveries;
-- duplicate_rate = duplicates / (stored + duplicates); rejection_rate = rejected / deliveries;
-- signature_failure_rate = signature failures / deliveries. Rates are null without a delivery.
-- Counter minutes that start after p_since's minute are in the window (60 of them for an hour).

create or replace function public.ops_webhook_figures(p_since timestamptz)
returns table (
  deliveries integer, stored integer, processed integer, duplicates integer, rejected integer,
  rejected_by_reason jsonb, signature_failures integer, success_rate double precision,
  duplicate_rate double precision, rejection_rate double precision, signature_failure_rate double precision,
  latency_p50_seconds double precision, latency_p95_seconds double precision, latency_p99_seconds double precision
)
language sql
stable
set search_path = ''
as $$
  with received as (
    select count(*)::integer as stored, count(e.processed_at)::integer as processed,
           percentile_cont(0.5) within group (order by extract(epoch from e.processed_at - e.received_at)) as p50,
           percentile_cont(0.95) within group (order by extract(epoch from e.processed_at - e.received_at)) as p95,
           percentile_cont(0.99) within group (order by extract(epoch from e.processed_at - e.received_at)) as p99
    from public.events e
    where e.received_at > p_since
  ), counted as (
    select w.kind, w.reason, sum(w.count)::integer as n
    from public.webhook_counters w
    where w.minute > date_trunc('minute', p_since)
    group by w.kind, w.reason
  ), totals as (
    select r.stored, r.processed, r.p50, r.p95, r.p99,
           coalesce((select sum(n) from counted where kind = 'duplicate'), 0)::integer as duplicates,
           coalesce((select sum(n) from counted where kind = 'rejected'), 0)::integer as rejected,
           coalesce((select jsonb_object_agg(reason, n order by reason) from counted where kind = 'rejected'),
                    '{}'::jsonb) as by_reason,
           coalesce((select sum(n) from counted where kind = 'rejected'
                     and reason in ('missing_signature', 'malformed_signature', 'stale_timestamp', 'bad_signature')), 0)
             ::integer as signature_failures
    from received r
  )
  select t.stored + t.duplicates + t.rejected, t.stored, t.processed, t.duplicates, t.rejected, t.by_reason,
         t.signature_failures,
         round((t.stored + t.duplicates)::numeric / nullif(t.stored + t.duplicates + t.rejected, 0), 4)::double precision,
         round(t.duplicates::numeric / nullif(t.stored + t.duplicates, 0), 4)::double precision,
         round(t.rejected::numeric / nullif(t.stored + t.duplicates + t.rejected, 0), 4)::double precision,
         round(t.signature_failures::numeric / nullif(t.stored + t.duplicates + t.rejected, 0), 4)::double precision,
         round(t.p50::numeric, 3)::double precision, round(t.p95::numeric, 3)::double precision,
         round(t.p99::numeric, 3)::double precision
  from totals t
$$;

comment on function public.ops_webhook_figures(timestamptz) is
  'Webhook deliveries since p_since: stored, processed, duplicates, rejections by reason, their rates and processing latency.';

revoke execute on function public.ops_webhook_figures(timestamptz) from public, anon, authenticated;
grant execute on function public.ops_webhook_figures(timestamptz) to service_role;
