-- An event type the product does not act on: stored (and marked processed), nothing else.
with n as (select nextval('bench_ingest.unknown_seq') as k)
select public.ingest_webhook_event(t.row || jsonb_build_object(
    'id', 'msg_' || t.tag || 'u' || n.k, 'company_id', t.company_prefix || (n.k % t.companies),
    'occurred_at', clock_timestamp()), true) ->> 'status'
from bench_ingest.templates t, n
where t.kind = 'unknown';
