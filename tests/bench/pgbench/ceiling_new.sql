-- The ceiling for a new row: one single-row insert into a two-column table (made by tests/bench/ingest_sql.ts).
insert into bench_ingest.ceiling (id, company_id) values ('n' || nextval('bench_ingest.ceiling_seq'), 'biz_ceiling')
on conflict (id) do nothing;
