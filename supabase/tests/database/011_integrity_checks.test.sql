-- Integrity checks: private.run_integrity_checks stores a run (daily counts + one finding per
-- invariant), passes on consistent data, and detects each planted violation with its row id.
-- The window starts at this transaction's now(), so only rows planted here are judged (the
-- one-open-case check covers every open case, which the unique index keeps clean elsewhere).
begin;
select plan(22);

create function pg_temp.finding(p_run bigint, p_check text) returns bigint language sql as $$
  select violations from public.integrity_findings where run_id = p_run and check_name = p_check
$$;
create function pg_temp.samples(p_run bigint, p_check text) returns text[] language sql as $$
  select sample_ids from public.integrity_findings where run_id = p_run and check_name = p_check
$$;
create function pg_temp.run() returns bigint language sql as $$ select private.run_integrity_checks(now(), 'test') $$;

select isnt_empty($$select 1 from cron.job where jobname = 'churn-saver-integrity' and schedule = '23 3 * * *'$$,
  'pg_cron runs the integrity checks daily');
select ok(not has_table_privilege('authenticated', 'public.integrity_runs', 'select')
          and not has_table_privilege('authenticated', 'public.integrity_findings', 'select'),
  'tenants cannot read integrity results');
select ok(not has_function_privilege('authenticated', 'private.run_integrity_checks(timestamptz, text)', 'execute'),
  'tenants cannot run the checks');

-- Consistent data: a failure with its case, a recovery with its closing event, a job sent once.
insert into public.companies (company_id) values ('biz_integrity');
insert into public.company_settings (company_id) values ('biz_integrity');
insert into public.events (id, company_id, type, raw_type, api_version, membership_id, occurred_at, processed_at)
values ('msg_int_fail', 'biz_integrity', 'payment.failed', 'payment.failed', 'v1', 'mem_ok', now() - interval '2 hours', now()),
       ('msg_int_paid', 'biz_integrity', 'payment.succeeded', 'payment.succeeded', 'v1', 'mem_ok', now() - interval '1 hour', now());
insert into public.recovery_cases (id, company_id, membership_id, status, reason, opened_at, closed_at, attribution,
                                   opening_event_id, closing_event_id)
values ('00000000-0000-4000-8000-00000000a001', 'biz_integrity', 'mem_ok', 'recovered', 'payment_failed',
        now() - interval '2 hours', now() - interval '1 hour', 'nudged', 'msg_int_fail', 'msg_int_paid');
insert into public.job_queue (id, case_id, company_id, channel, step, status, scheduled_for, sent_at)
overriding system value
values (-9001, '00000000-0000-4000-8000-00000000a001', 'biz_integrity', 'push', 0, 'sent', now() - interval '2 hours', now());
insert into public.notification_attempts (job_id, company_id, status) values (-9001, 'biz_integrity', 'sent');

select pg_temp.run() as clean \gset
select is((select status from public.integrity_runs where id = :clean), 'pass', 'consistent data passes');
select is((select count(*)::int from public.integrity_findings where run_id = :clean), 5, 'one finding per invariant');
select is((select sum(violations)::int from public.integrity_findings where run_id = :clean), 0, '... none violated');
select ok((select (d ->> 'events')::int >= 2 and (d ->> 'recovery_cases')::int >= 1 and (d ->> 'job_queue')::int >= 1
           from public.integrity_runs r, jsonb_array_elements(r.daily_counts) d
           where r.id = :clean and (d ->> 'day')::date = (now() at time zone 'UTC')::date),
  'the daily counts include today''s events, cases and jobs');

-- 1. A processed payment failure that no case covers.
insert into public.events (id, company_id, type, raw_type, api_version, membership_id, occurred_at, processed_at)
values ('msg_int_orphan', 'biz_integrity', 'payment.failed', 'payment.failed', 'v1', 'mem_orphan', now(), now());
select pg_temp.run() as r1 \gset
select is(pg_temp.finding(:r1, 'failed_payment_has_case'), 1::bigint, 'a failed payment without a case is found');
select is(pg_temp.samples(:r1, 'failed_payment_has_case'), array['msg_int_orphan'], '... with its event id');
select is((select status from public.integrity_runs where id = :r1), 'fail', '... and the run fails');
-- Not yet processed (processing off): not a violation, it waits for reprocessing.
insert into public.events (id, company_id, type, raw_type, api_version, membership_id, occurred_at)
values ('msg_int_waiting', 'biz_integrity', 'payment.failed', 'payment.failed', 'v1', 'mem_waiting', now());
select is(pg_temp.finding(pg_temp.run(), 'failed_payment_has_case'), 1::bigint, 'an unprocessed failure is not counted');

-- 2. Two open cases for one membership (only possible without the unique index).
drop index public.recovery_cases_one_open_per_membership;
insert into public.recovery_cases (id, company_id, membership_id, reason, opened_at) values
  ('00000000-0000-4000-8000-00000000b001', 'biz_integrity', 'mem_twice', 'payment_failed', now() - interval '1 hour'),
  ('00000000-0000-4000-8000-00000000b002', 'biz_integrity', 'mem_twice', 'payment_failed', now());
select pg_temp.run() as r2 \gset
select is(pg_temp.finding(:r2, 'one_open_case_per_membership'), 1::bigint, 'two open cases for one membership are found');
select is(pg_temp.samples(:r2, 'one_open_case_per_membership'), array['00000000-0000-4000-8000-00000000b002'],
  '... with the id of the extra case');

-- 3. A job sent twice.
insert into public.notification_attempts (job_id, company_id, status) values (-9001, 'biz_integrity', 'sent');
select pg_temp.run() as r3 \gset
select is(pg_temp.finding(:r3, 'job_sent_once'), 1::bigint, 'a job with two sent attempts is found');
select is(pg_temp.samples(:r3, 'job_sent_once'), array['-9001'], '... with its job id');
-- A retried job (retry, then sent) is fine.
insert into public.job_queue (id, case_id, company_id, channel, step, status, scheduled_for, sent_at)
overriding system value
values (-9002, '00000000-0000-4000-8000-00000000a001', 'biz_integrity', 'dm', 0, 'sent', now(), now());
insert into public.notification_attempts (job_id, company_id, status)
values (-9002, 'biz_integrity', 'retry'), (-9002, 'biz_integrity', 'sent');
select is(pg_temp.finding(pg_temp.run(), 'job_sent_once'), 1::bigint, 'a retry followed by one send is not counted');

-- 4. The incentive applied twice to one case (only possible with a manual job).
insert into public.job_queue (case_id, company_id, channel, step, origin, status, scheduled_for, sent_at) values
  ('00000000-0000-4000-8000-00000000a001', 'biz_integrity', 'incentive', 0, 'schedule', 'sent', now(), now()),
  ('00000000-0000-4000-8000-00000000a001', 'biz_integrity', 'incentive', 0, 'manual', 'sent', now(), now());
select pg_temp.run() as r4 \gset
select is(pg_temp.finding(:r4, 'incentive_applied_once'), 1::bigint, 'an incentive applied twice is found');
select is(pg_temp.samples(:r4, 'incentive_applied_once'), array['00000000-0000-4000-8000-00000000a001'],
  '... with its case id');

-- 5. Recovered cases without their closing event: none named, or one that is not a success.
insert into public.recovery_cases (id, company_id, membership_id, status, reason, opened_at, closed_at, attribution,
                                   closing_event_id)
values ('00000000-0000-4000-8000-00000000c001', 'biz_integrity', 'mem_noclose', 'recovered', 'payment_failed',
        now() - interval '1 hour', now(), 'organic', null),
       ('00000000-0000-4000-8000-00000000c002', 'biz_integrity', 'mem_wrongclose', 'recovered', 'payment_failed',
        now() - interval '1 hour', now(), 'organic', 'msg_int_orphan');
select pg_temp.run() as r5 \gset
select is(pg_temp.finding(:r5, 'recovered_case_has_closing_event'), 2::bigint,
  'recovered cases without a closing success event are found');
select is(pg_temp.samples(:r5, 'recovered_case_has_closing_event'),
  array['00000000-0000-4000-8000-00000000c001', '00000000-0000-4000-8000-00000000c002'], '... with their case ids');
select is((select violations::int from public.integrity_runs where id = :r5), 6, 'the run counts every violation');

-- Rows outside the window are not judged (the CLI's --since, verify's phase window).
select private.run_integrity_checks(now() + interval '1 minute', 'test') as later \gset
select is((select violations::int from public.integrity_runs where id = :later), 1,
  'a later window sees only the every-open-case check''s violation');

select * from finish();
rollback;
