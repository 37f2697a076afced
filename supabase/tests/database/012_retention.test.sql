-- Retention: the function pg_cron runs purges events 30 days after receipt and closed cases (with
-- jobs, attempts, clicks) 60 days after closing, in bounded batches; younger rows, open cases and
-- daily rollups stay; member PII goes once nothing refers to it; and replay after a purge neither
-- recreates nor changes the stored cases.
begin;
select plan(42);

update public.feature_flags set enabled = true, rollout_percent = 100 where name = 'WEBHOOK_PROCESSING_ENABLED';
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';

-- An event as the webhook function stores it, received when it happened (`p_at`).
create function pg_temp.ingest_at(p_id text, p_company text, p_type text, p_at timestamptz, p_membership text)
returns void
language plpgsql as $$
begin
  perform public.ingest_webhook_event(jsonb_build_object(
    'id', p_id, 'company_id', p_company, 'type', p_type, 'raw_type', p_type, 'api_version', 'v1',
    'occurred_at', p_at, 'membership_id', p_membership, 'user_id', 'user_' || p_membership,
    'amount_minor', 1000, 'currency', 'usd', 'payload_ciphertext', 'v1.k1.iv.payload',
    'member', jsonb_build_object('email_ciphertext', 'v1.k1.iv.email', 'email_blind_index', 'k1.idx')));
  update public.events set received_at = p_at where id = p_id;
end
$$;
create function pg_temp.purge(p_batch integer default 1000, p_batches integer default 100) returns jsonb
language sql as $$ select private.purge_expired_data(p_batch, p_batches) $$;
create function pg_temp.events_of(p_company text) returns text[]
language sql as $$ select coalesce(array_agg(id order by id), '{}') from public.events where company_id = p_company $$;

-- Whatever other tests left behind, so that the counts below are this file's.
do $$
begin
  for i in 1..50 loop
    exit when not (private.purge_expired_data(1000, 100) ->> 'more')::boolean;
  end loop;
end
$$;

select is((select command from cron.job where jobname = 'churn-saver-retention'),
  'select private.purge_expired_data()', 'pg_cron runs the purge');

-- Bounded batches.
insert into public.companies (company_id) values ('biz_ret_batch');
insert into public.events (id, company_id, type, raw_type, api_version, occurred_at, received_at)
select 'ret_batch_' || n, 'biz_ret_batch', 'payment.created', 'payment.created', 'v1',
       now() - interval '40 days', now() - interval '40 days'
from generate_series(1, 25) n;
select is((pg_temp.purge(10, 2)) -> 'events', '20'::jsonb, 'a run deletes at most batches x batch size events');
select is(cardinality(pg_temp.events_of('biz_ret_batch')), 5, '... and leaves the rest');
select is((select (counts ->> 'more')::boolean from public.retention_runs order by id desc limit 1), true,
  '... saying so in its recorded counts');
select is((pg_temp.purge(10, 2)) -> 'events', '5'::jsonb, 'the next run takes the rest');
select is((select (counts ->> 'more')::boolean from public.retention_runs order by id desc limit 1), false,
  '... and is done');

-- Events: 31 days after receipt they go, at 29 days they stay.
insert into public.events (id, company_id, type, raw_type, api_version, occurred_at, received_at, payload_ciphertext)
values ('ret_n31', 'biz_ret_batch', 'payment.created', 'payment.created', 'v1', now() - interval '31 days',
        now() - interval '31 days', 'v1.k1.iv.ct'),
       ('ret_n29', 'biz_ret_batch', 'payment.created', 'payment.created', 'v1', now() - interval '29 days',
        now() - interval '29 days', 'v1.k1.iv.ct');
select pg_temp.ingest_at('ret_e31', 'biz_ret', 'payment.failed', now() - interval '31 days', 'mem_31');
select pg_temp.ingest_at('ret_e29', 'biz_ret', 'payment.failed', now() - interval '29 days', 'mem_29');
select is((select status from public.recovery_cases where membership_id = 'mem_31' and company_id = 'biz_ret'),
  'expired', 'fixture: the 31-day-old failure opened a case that expired');

-- Cases: closed 61 days ago they go (with jobs, attempts, clicks), 59 days ago and open ones stay.
insert into public.companies (company_id) values ('biz_ret_cases');
insert into public.company_settings (company_id) values ('biz_ret_cases');
insert into public.recovery_cases (id, company_id, membership_id, user_id, status, reason, opened_at, closed_at,
  attribution, recovered_amount_minor, currency, opening_event_id, created_at, updated_at)
values
  ('00000000-0000-4000-8000-000000000061', 'biz_ret_cases', 'mem_c61', 'user_c61', 'recovered', 'payment_failed',
   now() - interval '70 days', now() - interval '61 days', 'organic', 2500, 'usd', 'ret_gone_61',
   now() - interval '70 days', now() - interval '61 days'),
  ('00000000-0000-4000-8000-000000000059', 'biz_ret_cases', 'mem_c59', 'user_c59', 'lost', 'payment_failed',
   now() - interval '65 days', now() - interval '59 days', null, null, null, 'ret_gone_59',
   now() - interval '65 days', now() - interval '59 days'),
  ('00000000-0000-4000-8000-0000000000aa', 'biz_ret_cases', 'mem_open', 'user_open', 'open', 'payment_failed',
   now() - interval '200 days', null, null, null, null, 'ret_gone_open', now() - interval '200 days',
   now() - interval '200 days'),
  -- Closed long ago, but its opening event arrived late and is still kept: replay would recreate it.
  ('00000000-0000-4000-8000-0000000000bb', 'biz_ret_cases', 'mem_late', 'user_late', 'lost', 'payment_failed',
   now() - interval '80 days', now() - interval '75 days', null, null, null, 'ret_late_open',
   now() - interval '80 days', now() - interval '75 days'),
  -- Closed long ago by its dates, but written just now (a backfill): it gets its 60 days from now.
  ('00000000-0000-4000-8000-0000000000cc', 'biz_ret_cases', 'mem_new', 'user_new', 'expired', 'payment_failed',
   now() - interval '90 days', now() - interval '76 days', null, null, null, null, now(), now());
insert into public.events (id, company_id, type, raw_type, api_version, membership_id, user_id, occurred_at, received_at)
values ('ret_late_open', 'biz_ret_cases', 'payment.failed', 'payment.failed', 'v1', 'mem_late', 'user_late',
        now() - interval '80 days', now() - interval '5 days');
insert into public.job_queue (case_id, company_id, channel, step, status, scheduled_for, sent_at)
select id, company_id, 'push', 0, 'sent', opened_at, opened_at from public.recovery_cases where company_id = 'biz_ret_cases';
insert into public.notification_attempts (job_id, company_id, status)
select id, company_id, 'sent' from public.job_queue where company_id = 'biz_ret_cases';
insert into public.link_clicks (company_id, case_id, job_id, clicked_at)
select company_id, case_id, id, scheduled_for + interval '1 hour' from public.job_queue where company_id = 'biz_ret_cases';
insert into public.members (company_id, user_id, email_ciphertext, last_event_at, updated_at)
select 'biz_ret_cases', u, 'v1.k1.iv.ct', now() - interval '70 days', now() - interval '70 days'
from unnest(array['user_c61', 'user_c59', 'user_open', 'user_late', 'user_nobody', 'user_touched']) u;
update public.members set last_event_at = now() - interval '20 days' where user_id = 'user_nobody';
-- set_updated_at stamps now() on update: this one was just written.
update public.members set last_event_at = now() - interval '70 days' where user_id = 'user_touched';

-- Replay after a purge: a case whose events are gone stays as it is when the membership has news.
select pg_temp.ingest_at('ret_r1', 'biz_ret_replay', 'payment.failed', now() - interval '45 days', 'mem_r');
select pg_temp.ingest_at('ret_r2', 'biz_ret_replay', 'payment.succeeded', now() - interval '44 days', 'mem_r');
-- A case whose events straddle the cutoff: its first failure is 31 days old, the rest younger.
select pg_temp.ingest_at('ret_p1', 'biz_ret_replay', 'payment.failed', now() - interval '31 days', 'mem_p');
select pg_temp.ingest_at('ret_p2', 'biz_ret_replay', 'payment.failed', now() - interval '29 days', 'mem_p');
select pg_temp.ingest_at('ret_p3', 'biz_ret_replay', 'payment.succeeded', now() - interval '28 days', 'mem_p');
create temp table replay_before as select * from public.recovery_cases where company_id = 'biz_ret_replay';
select is((select count(*)::int from replay_before where status = 'recovered'), 2, 'fixture: two recovered cases');

-- The run, exactly as pg_cron runs it.
select lives_ok((select command from cron.job where jobname = 'churn-saver-retention'), 'the cron command runs');
select is((select counts from public.retention_runs order by id desc limit 1) @> '{"events": 0, "cases": 0, "more": true}',
  true, 'a run that brings rollups up to date purges nothing yet, and says more is to come');
select lives_ok((select command from cron.job where jobname = 'churn-saver-retention'), '... the next run purges');

select is(pg_temp.events_of('biz_ret_batch'), array['ret_n29'], 'a 31-day-old event without membership is purged, a 29-day-old one kept');
select is(pg_temp.events_of('biz_ret'), array['ret_e29'], 'a 31-day-old membership event is purged, a 29-day-old one kept');
select is((select count(*)::int from public.recovery_cases where company_id = 'biz_ret'), 2,
  '... and the cases they opened stay (closed less than 60 days ago, or open)');
select is((select count(*)::int from public.members where company_id = 'biz_ret'), 2,
  'members whose cases remain keep their details');

select is((select array_agg(membership_id order by membership_id) from public.recovery_cases where company_id = 'biz_ret_cases'),
  array['mem_c59', 'mem_late', 'mem_new', 'mem_open'],
  'the case closed 61 days ago is purged; 59 days, open, late-event and just-written cases stay');
select is((select count(*)::int from public.job_queue where case_id = '00000000-0000-4000-8000-000000000061'), 0,
  '... with its jobs');
select is((select count(*)::int from public.notification_attempts a where a.company_id = 'biz_ret_cases'), 4,
  '... and attempts (the others keep theirs)');
select is((select count(*)::int from public.link_clicks where case_id = '00000000-0000-4000-8000-000000000061'), 0,
  '... and clicks');
select is((select count(*)::int from public.link_clicks where company_id = 'biz_ret_cases'), 4, 'other cases keep their clicks');
select is((select array_agg(user_id order by user_id) from public.members where company_id = 'biz_ret_cases'),
  array['user_c59', 'user_late', 'user_nobody', 'user_open', 'user_touched'],
  'member details nothing refers to any more are purged (30 days after their last event and change)');

-- Rollups were written before the purge and survive it.
select ok((select through from public.daily_stats_watermarks where company_id = 'biz_ret_cases') is not null,
  'the rollups were refreshed before purging');
select is((select sum(cases_recovered)::int from public.daily_company_stats where company_id = 'biz_ret_cases'), 1,
  'the purged recovery is still counted in the daily rollups');
select is((select sum(cases_opened)::int from public.daily_company_stats where company_id = 'biz_ret_cases'), 5,
  '... as are the openings (the open case and those closed)');
select is((select recovered_revenue from public.daily_company_stats where company_id = 'biz_ret_cases' and cases_recovered > 0),
  '{"usd": {"cases": 1, "minor": "2500"}}'::jsonb, '... with its revenue');

-- The replay scenarios.
select is(pg_temp.events_of('biz_ret_replay'), array['ret_p1', 'ret_p2', 'ret_p3'],
  'a recovered case''s events are purged; a case whose later events are younger keeps all of them');
select pg_temp.ingest_at('ret_r3', 'biz_ret_replay', 'payment.failed', now() - interval '1 hour', 'mem_r');
select pg_temp.ingest_at('ret_p4', 'biz_ret_replay', 'payment.failed', now() - interval '1 hour', 'mem_p');
select is((select count(*)::int from public.recovery_cases where company_id = 'biz_ret_replay' and status = 'open'), 2,
  'after the purge, new failures open new cases');
select is(
  (select array_agg(to_jsonb(rc) - 'updated_at' order by rc.id) from public.recovery_cases rc
   where rc.company_id = 'biz_ret_replay' and rc.status <> 'open'),
  (select array_agg(to_jsonb(b) - 'updated_at' order by b.id) from replay_before b),
  '... and the stored cases are exactly as before: not recreated, not deleted, not changed');
select pg_temp.ingest_at('ret_r4', 'biz_ret_replay', 'payment.succeeded', now() - interval '30 minutes', 'mem_r');
select is((select count(*)::int from public.recovery_cases where company_id = 'biz_ret_replay' and membership_id = 'mem_r'), 2,
  'a later recovery closes only the new case');
select is((select status from public.recovery_cases where opening_event_id = 'ret_r1'), 'recovered',
  '... and the old one is still recovered');

-- Later runs change nothing more.
select is((pg_temp.purge()) -> 'cases', '0'::jsonb, 'a second run purges nothing more');
select is((select sum(cases_recovered)::int from public.daily_company_stats where company_id = 'biz_ret_cases'), 1,
  'rollups are never purged');

-- Age alone never purges an open case, and a lost case that can still be won back keeps its events.
update public.recovery_cases set opened_at = now() - interval '400 days' where id = '00000000-0000-4000-8000-0000000000aa';
select pg_temp.purge();
select is((select status from public.recovery_cases where id = '00000000-0000-4000-8000-0000000000aa'), 'open',
  'an open case is never purged, however old');
update public.company_settings set attribution_window_days = 90 where company_id = 'biz_ret_replay';
select pg_temp.ingest_at('ret_w1', 'biz_ret_replay', 'payment.failed', now() - interval '40 days', 'mem_w');
select pg_temp.ingest_at('ret_w2', 'biz_ret_replay', 'membership.deactivated', now() - interval '39 days', 'mem_w');
select pg_temp.purge();
select is((select count(*)::int from public.events where membership_id = 'mem_w'), 2,
  'the events of a lost case that can still be won back are kept');
select pg_temp.ingest_at('ret_w3', 'biz_ret_replay', 'payment.succeeded', now() - interval '1 hour', 'mem_w');
select is((select status from public.recovery_cases where opening_event_id = 'ret_w1'), 'recovered', '... so the win-back works');

-- The run log, and cron's own history.
select ok((select count(*) from public.retention_runs where started_at >= now()) >= 5, 'every run is recorded');
select is((select counts ->> 'cases' from public.retention_runs where counts ->> 'cases' <> '0' order by id desc limit 1),
  '1', '... with its counts');
insert into cron.job_run_details (jobid, runid, command, status, start_time, end_time)
values (0, -1, 'select 1', 'succeeded', now() - interval '8 days', now() - interval '8 days'),
       (0, -2, 'select 1', 'succeeded', now() - interval '6 days', now() - interval '6 days');
select isnt_empty($$select 1 from cron.job where jobname = 'churn-saver-trim-cron-history'$$, 'cron history is trimmed hourly');
select private.trim_cron_history();
select is((select array_agg(runid) from cron.job_run_details where jobid = 0), array[-2::bigint],
  '... keeping a week');

-- Only the service role may run it.
select ok(not has_function_privilege('authenticated', 'private.purge_expired_data(integer, integer, interval, interval)', 'execute'),
  'creators cannot run the purge');
select ok(has_function_privilege('service_role', 'private.purge_expired_data(integer, integer, interval, interval)', 'execute'),
  'the service role can');
select throws_ok($$select private.purge_expired_data(0)$$, '22023', null, 'a batch size below 1 is refused');

select * from finish();
rollback;
