-- Tenant isolation, proven with data: a user holding company A's claims reads none of company B's
-- rows and cannot insert, update or delete them, in every tenant table; anon reads nothing.
-- Each tenant table needs a fixture row per company and an insert template below; a tenant table
-- without them fails the first test.
begin;

insert into public.companies (company_id, title) values ('biz_iso_a', 'A'), ('biz_iso_b', 'B');
insert into public.company_settings (company_id) values ('biz_iso_a'), ('biz_iso_b');
insert into public.events (id, company_id, type, raw_type, api_version, occurred_at)
values ('msg_iso_a', 'biz_iso_a', 'payment.failed', 'payment.failed', 'v1', now()),
       ('msg_iso_b', 'biz_iso_b', 'payment.failed', 'payment.failed', 'v1', now());
insert into public.recovery_cases (id, company_id, membership_id, reason, opened_at)
values ('00000000-0000-4000-8000-00000000000a', 'biz_iso_a', 'mem_same', 'payment_failed', now()),
       ('00000000-0000-4000-8000-00000000000b', 'biz_iso_b', 'mem_same', 'payment_failed', now());
insert into public.job_queue (case_id, company_id, channel, step, scheduled_for)
select id, company_id, 'push', 0, now() from public.recovery_cases where company_id in ('biz_iso_a', 'biz_iso_b');
insert into public.notification_attempts (job_id, company_id, status)
select id, company_id, 'sent' from public.job_queue where company_id in ('biz_iso_a', 'biz_iso_b');
insert into public.audit_log (company_id, actor, action) values ('biz_iso_a', 'user_a', 'test'), ('biz_iso_b', 'user_b', 'test');
insert into public.members (company_id, user_id, email_ciphertext, last_event_at)
values ('biz_iso_a', 'user_same', 'v1.k1.iv.ct', now()), ('biz_iso_b', 'user_same', 'v1.k1.iv.ct', now());
insert into public.link_clicks (company_id, case_id)
select company_id, id from public.recovery_cases where company_id in ('biz_iso_a', 'biz_iso_b');
insert into public.daily_company_stats (company_id, day, cases_opened)
values ('biz_iso_a', '2026-01-01', 1), ('biz_iso_b', '2026-01-01', 2);
insert into public.daily_stats_watermarks (company_id, through)
values ('biz_iso_a', '2026-01-01'), ('biz_iso_b', '2026-01-01');

-- A row of company B per tenant table, as company A's user would try to insert it.
create temp table insert_attempts (table_name text primary key, row_json jsonb not null);
insert into insert_attempts values
  ('companies', '{"company_id": "biz_iso_b"}'),
  ('company_settings', '{"company_id": "biz_iso_b"}'),
  ('events', '{"id": "msg_iso_b2", "company_id": "biz_iso_b", "type": "payment.failed", "raw_type": "payment.failed", "api_version": "v1", "occurred_at": "2026-01-01T00:00:00Z"}'),
  ('recovery_cases', '{"company_id": "biz_iso_b", "membership_id": "mem_b2", "reason": "payment_failed", "opened_at": "2026-01-01T00:00:00Z"}'),
  ('job_queue', '{"case_id": "00000000-0000-4000-8000-00000000000b", "company_id": "biz_iso_b", "channel": "dm", "step": 1, "scheduled_for": "2026-01-01T00:00:00Z"}'),
  ('notification_attempts', jsonb_build_object('job_id', (select id from public.job_queue where company_id = 'biz_iso_b'), 'company_id', 'biz_iso_b', 'status', 'sent')),
  ('audit_log', '{"company_id": "biz_iso_b", "actor": "user_a", "action": "forged"}'),
  ('members', '{"company_id": "biz_iso_b", "user_id": "user_new", "last_event_at": "2026-01-01T00:00:00Z"}'),
  ('link_clicks', '{"company_id": "biz_iso_b", "case_id": "00000000-0000-4000-8000-00000000000b"}'),
  ('daily_company_stats', '{"company_id": "biz_iso_b", "day": "2026-01-02"}'),
  ('daily_stats_watermarks', '{"company_id": "biz_iso_b", "through": "2026-01-02"}');
grant select on insert_attempts to authenticated, anon;

create temp table tenant_tables as
select c.relname::text as name, (select count(*) from insert_attempts i where i.table_name = c.relname) = 1 as has_template
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind = 'r'
  and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'company_id' and not a.attisdropped);
grant select on tenant_tables to authenticated, anon;

-- Rows a statement changed, or 0 when the role may not run it at all.
create function pg_temp.rows_changed(statement text) returns int language plpgsql as $$
declare n int;
begin
  execute statement;
  get diagnostics n = row_count;
  return n;
exception when insufficient_privilege then
  return 0;
end
$$;

grant execute on function pg_temp.rows_changed(text) to authenticated, anon;

create function pg_temp.insert_statement(t text) returns text language sql as $$
  select format('insert into public.%I (%s) select %s from jsonb_populate_record(null::public.%I, %L)',
                t, string_agg(quote_ident(k), ', '), string_agg(quote_ident(k), ', '), t, (select row_json from insert_attempts where table_name = t))
  from jsonb_object_keys((select row_json from insert_attempts where table_name = t)) as k
$$;

create function pg_temp.count_rows(t text, company text) returns int language plpgsql as $$
declare n int;
begin
  execute format('select count(*) from public.%I where company_id = %L', t, company) into n;
  return n;
end
$$;

grant execute on function pg_temp.insert_statement(text), pg_temp.count_rows(text, text) to authenticated, anon;

create temp table before_counts as
select name, pg_temp.count_rows(name, 'biz_iso_b') as b_rows from tenant_tables;

select plan((select 1 + 7 * count(*)::int + 3 from tenant_tables));

select is((select array_agg(name order by name) from tenant_tables where not has_template), null,
  'every tenant table has an isolation fixture');

-- As company A's user.
set local role authenticated;
set local request.jwt.claims = '{"role": "authenticated", "company_id": "biz_iso_a", "sub": "user_a"}';

select cmp_ok(pg_temp.count_rows(name, 'biz_iso_a'), '>', 0, format('%s: A sees its own rows', name))
from tenant_tables order by name;
select is(pg_temp.count_rows(name, 'biz_iso_b'), 0, format('%s: A sees none of B''s rows', name))
from tenant_tables order by name;
select is(
  pg_temp.rows_changed(format('update public.%I set created_at = %L where company_id = %L', name, '2000-01-01', 'biz_iso_b')),
  0, format('%s: A updates none of B''s rows', name))
from tenant_tables order by name;
select is(pg_temp.rows_changed(format('delete from public.%I where company_id = %L', name, 'biz_iso_b')),
  0, format('%s: A deletes none of B''s rows', name))
from tenant_tables order by name;
select throws_ok(pg_temp.insert_statement(name), '42501', null, format('%s: A cannot insert a row for B', name))
from tenant_tables order by name;

-- The policies are not vacuous: where creators may write, they can write their own rows.
select is(pg_temp.rows_changed($$update public.company_settings set send_hour = 8 where company_id = 'biz_iso_a'$$), 1,
  'A can update its own settings');
select lives_ok($$insert into public.audit_log (company_id, actor, action) values ('biz_iso_a', 'user_a', 'test.write')$$,
  'A can append to its own audit log');

-- As anon: nothing at all.
reset role;
set local role anon;
select throws_ok(format('select count(*) from public.%I', name), '42501', null, format('%s: anon cannot read', name))
from tenant_tables order by name;
reset role;

-- Nothing of B's changed underneath (checked as the owner).
select is(pg_temp.count_rows(b.name, 'biz_iso_b'), b.b_rows, format('%s: B''s rows are all still there', b.name))
from before_counts b order by b.name;
select is(
  (select count(*)::int from public.company_settings where company_id = 'biz_iso_b' and created_at = '2000-01-01'),
  0, 'no row of B was touched by the update attempts');

select * from finish();
rollback;
