-- A redelivery of one of the failures stored by ingest_failed.sql (1..:failed): the same row with
-- its ids, answered from the id alone.
\set k random(1, :failed)
select public.ingest_webhook_event(replace(:duplicate_row, '{k}', (:k)::text)::jsonb, true) ->> 'status';
