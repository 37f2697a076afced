-- A redelivery of one of the failures stored by ingest_failed.sql (1..:failed).
\set k random(1, :failed)
select public.ingest_webhook_event(t.row || jsonb_build_object(
    'id', 'msg_' || t.tag || 'f' || :k, 'company_id', t.company_prefix || ((:k)::bigint % t.companies),
    'membership_id', 'mem_' || t.tag || 'f' || :k, 'user_id', 'user_' || t.tag || 'f' || :k,
    'payment_id', 'pay_' || t.tag || 'f' || :k, 'occurred_at', clock_timestamp()), true) ->> 'status'
from bench_ingest.templates t
where t.kind = 'failed';
