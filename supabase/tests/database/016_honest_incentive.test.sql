-- The free-days incentive told honestly, and step positions: a case keeps the days it opened with
-- (recovery_cases.incentive_free_days), its grant waits for the first delivered message
-- (private.schedule_case_jobs, public.complete_job), and claim_due_jobs says whether the days were
-- given and how many steps the case's schedule has.
begin;
select plan(13);

update public.feature_flags set enabled = true, rollout_percent = 100, company_allowlist = '{}'
where name in ('WEBHOOK_PROCESSING_ENABLED', 'SCHEDULER_ENABLED', 'NOTIFICATIONS_ENABLED');
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';
update public.job_queue set status = 'cancelled' where status in ('pending', 'claimed');

insert into public.companies (company_id) values ('biz_inc');
insert into public.company_settings (company_id, experience_id, incentive_free_days, nudge_offsets_days)
values ('biz_inc', 'exp_inc', 3, '{0,1,2,3,5}');
select public.ingest_webhook_event(jsonb_build_object('id', 'inc1', 'company_id', 'biz_inc', 'type', 'payment.failed',
  'raw_type', 'payment.failed', 'api_version', 'v1', 'occurred_at', now() - interval '1 minute',
  'membership_id', 'mem_inc', 'user_id', 'user_inc', 'amount_minor', 1000, 'currency', 'usd'));
create temp table inc_case as
  select id from public.recovery_cases where company_id = 'biz_inc' and membership_id = 'mem_inc';

select is((select incentive_free_days from public.recovery_cases where id = (select id from inc_case)), 3::smallint,
  'the case keeps the days offered when it opened');
update public.company_settings set incentive_free_days = 7 where company_id = 'biz_inc';
select public.ingest_webhook_event(jsonb_build_object('id', 'inc2', 'company_id', 'biz_inc', 'type', 'payment.failed',
  'raw_type', 'payment.failed', 'api_version', 'v1', 'occurred_at', now() - interval '30 seconds',
  'membership_id', 'mem_inc', 'user_id', 'user_inc', 'amount_minor', 1000, 'currency', 'usd'));
select is((select incentive_free_days from public.recovery_cases where id = (select id from inc_case)), 3::smallint,
  '... through later events and a changed setting');
select is((select scheduled_for from public.job_queue where case_id = (select id from inc_case) and channel = 'incentive'),
  'infinity'::timestamptz, 'the grant waits for a delivered message, through replays too');

create temp table first_round as select * from public.claim_due_jobs('wi1', 100, 60);
select is((select count(*)::int from first_round where company_id = 'biz_inc' and status = 'claimed'), 2,
  'the day-0 push and DM are claimed, the grant is not');
select is((select string_agg(distinct incentive_state || ':' || incentive_free_days || ':' || step_count, ',')
           from first_round where company_id = 'biz_inc'),
  'offered:3:5', 'each says the 3 days are offered, not given, and that the schedule has 5 steps');

select ok(public.complete_job((select job_id from first_round where company_id = 'biz_inc' and channel = 'push'),
  'wi1', 'failed', 400, 5, 'refused'), 'a push Whop refused');
select is((select scheduled_for from public.job_queue where case_id = (select id from inc_case) and channel = 'incentive'),
  'infinity'::timestamptz, '... releases nothing: days are never granted without a delivered message');
select ok(public.complete_job((select job_id from first_round where company_id = 'biz_inc' and channel = 'dm'),
  'wi1', 'sent', 200, 5), 'a delivered DM (it announced the days)');
create temp table grant_round as select * from public.claim_due_jobs('wi2', 100, 60);
select is((select incentive_free_days from grant_round where company_id = 'biz_inc' and channel = 'incentive'), 3::smallint,
  '... releases the grant at once, with the case''s 3 days (not today''s 7)');
select ok(public.complete_job((select job_id from grant_round where company_id = 'biz_inc' and channel = 'incentive'),
  'wi2', 'sent', 200, 5), 'the grant is applied');

update public.job_queue set scheduled_for = now() - interval '1 second'
where case_id = (select id from inc_case) and step = 4 and channel = 'dm';
select is((select incentive_state || ':' || step || ':' || step_count from public.claim_due_jobs('wi3', 100, 60)
           where company_id = 'biz_inc' and channel = 'dm'),
  'given:4:5', 'the last step of five knows it is the last and that the days were given');

-- A membership that ended gets no incentive: nothing to extend.
select public.ingest_webhook_event(jsonb_build_object('id', 'inc3', 'company_id', 'biz_inc', 'type', 'membership.deactivated',
  'raw_type', 'membership.deactivated', 'api_version', 'v1', 'occurred_at', now() - interval '1 minute',
  'membership_id', 'mem_inc_gone', 'user_id', 'user_inc_gone'));
select is((select incentive_free_days from public.recovery_cases where company_id = 'biz_inc' and membership_id = 'mem_inc_gone'), 0::smallint,
  'a case for an ended membership offers no days');
select is((select count(*)::int from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
           where rc.company_id = 'biz_inc' and rc.membership_id = 'mem_inc_gone' and j.channel = 'incentive'), 0, '... and has no grant');

select * from finish();
rollback;
