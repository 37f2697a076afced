-- The ceiling for a duplicate: the same insert, always meeting a row stored before the run.
\set k random(1, :conflict_rows)
insert into bench_ingest.ceiling (id, company_id) values ('c' || :k, 'biz_ceiling') on conflict (id) do nothing;
