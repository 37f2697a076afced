-- The core schema: the tables and columns that outside checks rely on (ARCHITECTURE section 5),
-- the one-open-case rule, and the pg_cron housekeeping job.
begin;
select plan(44);

select has_table('public', t, format('table %s exists', t))
from unnest(array['companies', 'company_settings', 'events', 'recovery_cases', 'job_queue',
                  'notification_attempts', 'feature_flags', 'audit_log']) as t;

select has_column('public', 'events', c, format('events.%s exists', c))
from unnest(array['id', 'company_id', 'type', 'occurred_at', 'received_at', 'processed_at', 'created_at']) as c;
select has_column('public', 'recovery_cases', c, format('recovery_cases.%s exists', c))
from unnest(array['id', 'company_id', 'membership_id', 'user_id', 'status', 'reason', 'opened_at', 'closed_at',
                  'attribution', 'created_at']) as c;
select has_column('public', 'job_queue', c, format('job_queue.%s exists', c))
from unnest(array['id', 'case_id', 'company_id', 'channel', 'step', 'status', 'scheduled_for', 'created_at']) as c;

-- Every table in public has created_at timestamptz (the rollout plan's integrity SQL reads it).
select is(
  (select array_agg(c.relname::text order by c.relname)
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'public' and c.relkind = 'r'
     and not exists (select 1 from information_schema.columns col
                     where col.table_schema = 'public' and col.table_name = c.relname
                       and col.column_name = 'created_at' and col.data_type = 'timestamp with time zone')),
  null,
  'every public table has created_at timestamptz');

-- One open case per company + membership.
insert into public.companies (company_id) values ('biz_schema_a'), ('biz_schema_b');
insert into public.recovery_cases (company_id, membership_id, reason, opened_at)
values ('biz_schema_a', 'mem_1', 'payment_failed', now());
select throws_ok(
  $$insert into public.recovery_cases (company_id, membership_id, reason, opened_at)
    values ('biz_schema_a', 'mem_1', 'payment_failed', now())$$,
  '23505', null, 'a second open case for the same membership is refused');
select lives_ok(
  $$insert into public.recovery_cases (company_id, membership_id, reason, opened_at)
    values ('biz_schema_b', 'mem_1', 'payment_failed', now())$$,
  'the same membership id in another company opens its own case');
select lives_ok(
  $$insert into public.recovery_cases (company_id, membership_id, reason, opened_at, status, closed_at)
    values ('biz_schema_a', 'mem_1', 'payment_failed', now() - interval '30 days', 'lost', now() - interval '20 days')$$,
  'closed cases do not count against the one-open-case rule');
select throws_ok(
  $$insert into public.recovery_cases (company_id, membership_id, reason, opened_at, status)
    values ('biz_schema_a', 'mem_2', 'payment_failed', now(), 'recovered')$$,
  '23514', null, 'a closed case needs closed_at and a recovered case needs its attribution');
select throws_ok(
  $$insert into public.recovery_cases (company_id, membership_id, reason, opened_at) values ('biz_schema_a', 'mem_3', 'bored', now())$$,
  '23514', null, 'unknown reasons are refused');
select throws_ok(
  $$insert into public.company_settings (company_id, time_zone) values ('biz_schema_a', 'Mars/Olympus')$$,
  '23514', null, 'an unknown time zone is refused');
select throws_ok(
  $$insert into public.companies (company_id) values ('not-a-biz-id')$$,
  '23514', null, 'company ids look like Whop business ids');

-- Flags and scheduler.
select is((select count(*)::int from public.feature_flags), 4, 'the four rollout flags exist');
select has_extension('pg_cron', 'pg_cron is installed');
select isnt_empty($$select 1 from cron.job where jobname = 'churn-saver-trim-cron-history'$$,
  'the cron history trim job is scheduled');

select * from finish();
rollback;
