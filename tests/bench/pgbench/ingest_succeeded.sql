-- The member pays again: payment.succeeded for a membership ingest_failed.sql opened a case for,
-- each one once (the sequence runs 1..:failed), closing it as recovered.
with n as (select nextval('bench_ingest.succeeded_seq') as k)
select public.ingest_webhook_event(t.row || jsonb_build_object(
    'id', 'msg_' || t.tag || 's' || n.k, 'company_id', t.company_prefix || (n.k % t.companies),
    'membership_id', 'mem_' || t.tag || 'f' || n.k, 'user_id', 'user_' || t.tag || 'f' || n.k,
    'payment_id', 'pay_' || t.tag || 's' || n.k, 'occurred_at', clock_timestamp()), true) ->> 'status'
from bench_ingest.templates t, n
where t.kind = 'succeeded';
