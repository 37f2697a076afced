-- An event type the product does not act on: stored (and marked processed), nothing else.
with n as (select nextval('bench_ingest.unknown_seq') as k)
select public.ingest_webhook_event(replace(replace(replace(:unknown_row, '{k}', n.k::text),
    '{c}', (n.k % :companies)::text), '{t}', clock_timestamp()::text)::jsonb, true) ->> 'status'
from n;
