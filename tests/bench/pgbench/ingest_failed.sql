-- A renewal's payment.failed for a membership never seen: stores the event and its member, opens a
-- case and schedules its nudges (processing on). :failed_row is the function's own row
-- (ingest_sql.ts, createScratch) sent as a text parameter, with fresh ids; one call, as
-- store_event.ts makes it.
with n as (select nextval('bench_ingest.failed_seq') as k)
select public.ingest_webhook_event(replace(replace(replace(:failed_row, '{k}', n.k::text),
    '{c}', (n.k % :companies)::text), '{t}', clock_timestamp()::text)::jsonb, true) ->> 'status'
from n;
