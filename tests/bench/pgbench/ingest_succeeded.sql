-- The member pays again: payment.succeeded for a membership ingest_failed.sql opened a case for,
-- each one once (the sequence runs 1..:failed), closing it as recovered.
with n as (select nextval('bench_ingest.succeeded_seq') as k)
select public.ingest_webhook_event(replace(replace(replace(:succeeded_row, '{k}', n.k::text),
    '{c}', (n.k % :companies)::text), '{t}', clock_timestamp()::text)::jsonb, true) ->> 'status'
from n;
