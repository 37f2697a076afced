-- A renewal's payment.failed for a membership never seen: stores the event and its member, opens a
-- case and schedules its nudges (processing on). The row is the function's own (bench_ingest.templates,
-- made by store_event.ts's eventRow), with fresh ids; one call, as store_event.ts makes it.
with n as (select nextval('bench_ingest.failed_seq') as k)
select public.ingest_webhook_event(t.row || jsonb_build_object(
    'id', 'msg_' || t.tag || 'f' || n.k, 'company_id', t.company_prefix || (n.k % t.companies),
    'membership_id', 'mem_' || t.tag || 'f' || n.k, 'user_id', 'user_' || t.tag || 'f' || n.k,
    'payment_id', 'pay_' || t.tag || 'f' || n.k, 'occurred_at', clock_timestamp()), true) ->> 'status'
from bench_ingest.templates t, n
where t.kind = 'failed';
