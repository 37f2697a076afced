-- Claiming, completing and the circuit breaker, as the dispatcher calls them, with the rollout flags.
begin;
select plan(30);

update public.feature_flags set enabled = true, rollout_percent = 100, company_allowlist = '{}'
where name in ('WEBHOOK_PROCESSING_ENABLED', 'SCHEDULER_ENABLED', 'NOTIFICATIONS_ENABLED');
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';
-- Nothing else is due in this transaction's world.
update public.job_queue set status = 'cancelled' where status in ('pending', 'claimed');

insert into public.companies (company_id) values ('biz_disp'), ('biz_noexp');
insert into public.company_settings (company_id, experience_id) values ('biz_disp', 'exp_disp'), ('biz_noexp', null);
select public.ingest_webhook_event(jsonb_build_object('id', 'dsp1', 'company_id', c, 'type', 'payment.failed',
  'raw_type', 'payment.failed', 'api_version', 'v1', 'occurred_at', now() - interval '1 minute',
  'membership_id', 'mem_disp', 'user_id', 'user_disp', 'amount_minor', 1000, 'currency', 'usd'))
from (values ('biz_disp')) v(c);
select public.ingest_webhook_event(jsonb_build_object('id', 'dsp2', 'company_id', 'biz_noexp', 'type', 'payment.failed',
  'raw_type', 'payment.failed', 'api_version', 'v1', 'occurred_at', now() - interval '1 minute',
  'membership_id', 'mem_noexp', 'user_id', 'user_noexp'));

-- Scheduler off: nothing is claimed.
update public.feature_flags set enabled = false where name = 'SCHEDULER_ENABLED';
select is((select count(*)::int from public.claim_due_jobs('w1')), 0, 'SCHEDULER_ENABLED off: nothing is claimed');
update public.feature_flags set enabled = true where name = 'SCHEDULER_ENABLED';

create temp table claimed as select * from public.claim_due_jobs('w1', 100, 60);
select is((select count(*)::int from claimed where status = 'claimed' and company_id = 'biz_disp'), 2,
  'the due day-0 push and dm of the case are claimed');
select is((select scheduled_for from public.job_queue where company_id = 'biz_disp' and channel = 'incentive'),
  'infinity'::timestamptz, '... while its free days wait for a delivered message to announce them');
select is((select count(*)::int from claimed where status = 'claimed' and step > 0), 0, 'later steps are not due yet');
select is((select status from claimed where company_id = 'biz_noexp' and channel = 'push'), 'skipped',
  'a push for a company without experience_id is skipped');
select alike((select note from claimed where company_id = 'biz_noexp' and channel = 'push'), '%experience_id%', '... with that reason');
select is((select experience_id from claimed where company_id = 'biz_disp' and channel = 'push'), 'exp_disp',
  'a claimed push carries the experience id');
select is((select count(*)::int from public.claim_due_jobs('w2', 100, 60)), 0,
  'a second dispatcher gets nothing that is claimed or decided already');

-- Completion only by the lease holder.
select ok(not public.complete_job((select job_id from claimed where company_id = 'biz_disp' and channel = 'push'), 'w2', 'sent'),
  'another worker cannot complete a job it does not hold');
select ok(public.complete_job((select job_id from claimed where company_id = 'biz_disp' and channel = 'push'), 'w1', 'sent', 200, 12),
  'the holder completes it');
select is((select status from public.job_queue where id = (select job_id from claimed where company_id = 'biz_disp' and channel = 'push')),
  'sent', '... as sent');
select is((select count(*)::int from public.notification_attempts where job_id = (select job_id from claimed where company_id = 'biz_disp' and channel = 'push')),
  1, '... with the attempt recorded');
insert into claimed select * from public.claim_due_jobs('w1', 100, 60);
select is((select incentive_free_days from claimed where company_id = 'biz_disp' and channel = 'incentive' and status = 'claimed'),
  3::smallint, 'the delivered push released the free days: the grant is claimed with the case''s number');

-- Retry and deferral.
select ok(public.complete_job((select job_id from claimed where company_id = 'biz_disp' and channel = 'dm'), 'w1', 'retry', 503, 40,
  'Whop 503', now() + interval '2 minutes'), 'a transient failure is rescheduled');
select is((select status || ':' || (scheduled_for = now() + interval '2 minutes')::text from public.job_queue
           where id = (select job_id from claimed where company_id = 'biz_disp' and channel = 'dm')), 'pending:true',
  '... pending again at the retry time');
select ok(public.complete_job((select job_id from claimed where company_id = 'biz_disp' and channel = 'incentive'), 'w1', 'deferred',
  null, null, 'breaker open', now() + interval '30 seconds'), 'a job held back by the breaker is deferred');
select is((select attempts from public.job_queue where id = (select job_id from claimed where company_id = 'biz_disp' and channel = 'incentive')),
  0, '... and that does not count as an attempt');
select throws_ok($$select public.complete_job(1, 'w1', 'exploded')$$, '22023', null, 'unknown outcomes are refused');

-- Lease expiry: a crashed dispatcher's job is claimed again.
select is((select count(*)::int from public.claim_due_jobs('w3', 100, 60, now() + interval '5 minutes')
           where company_id = 'biz_disp' and status = 'claimed'), 2,
  'after the lease and retry times, the retried dm and the deferred incentive are claimed again');

-- Notifications off for a company, or paused: suppressed, not sent.
update public.job_queue set status = 'pending', scheduled_for = now() - interval '1 second', claimed_by = null
where company_id = 'biz_disp' and channel = 'dm' and step = 0;
update public.feature_flags set enabled = false where name = 'NOTIFICATIONS_ENABLED';
select is((select status from public.claim_due_jobs('w4', 100, 60) where company_id = 'biz_disp' and channel = 'dm'), 'suppressed',
  'NOTIFICATIONS_ENABLED off: due jobs are suppressed');
update public.feature_flags set enabled = true where name = 'NOTIFICATIONS_ENABLED';

-- A channel turned off in settings skips its queued jobs.
update public.job_queue set status = 'pending', scheduled_for = now() - interval '1 second', claimed_by = null
where company_id = 'biz_disp' and channel = 'dm' and step = 0;
update public.company_settings set dm_enabled = false where company_id = 'biz_disp';
select is((select note from public.claim_due_jobs('w4b', 100, 60) where company_id = 'biz_disp' and channel = 'dm'),
  'direct messages turned off in settings', 'a DM job is skipped once DMs are turned off');
update public.company_settings set dm_enabled = true where company_id = 'biz_disp';

-- Closed cases are never sent.
update public.job_queue set status = 'pending', scheduled_for = now() - interval '1 second', claimed_by = null
where company_id = 'biz_disp' and channel = 'dm' and step = 0;
update public.recovery_cases set status = 'recovered', closed_at = now(), attribution = 'organic' where company_id = 'biz_disp';
select is((select status from public.claim_due_jobs('w5', 100, 60) where company_id = 'biz_disp' and channel = 'dm'), 'cancelled',
  'a due job of a closed case is cancelled, not sent');

-- The breaker.
update public.circuit_breakers set state = 'closed', consecutive_failures = 0, retry_at = null where channel = 'push';
select is((select array_agg(public.breaker_record('push', 'failing', 3, 30)) from generate_series(1, 3)), array['closed', 'closed', 'open'],
  'three failures open the breaker');
select ok(not public.breaker_try_probe('push', 'w1', 60), 'no probe before the cool-off');
select ok(public.breaker_try_probe('push', 'w1', 60, now() + interval '31 seconds'), 'one probe after it');
select ok(not public.breaker_try_probe('push', 'w2', 60, now() + interval '31 seconds'), '... and only one');
select is(public.breaker_record('push', 'reachable'), 'closed', 'a successful probe closes it');

-- Manual nudge.
select throws_ok($$select private.create_manual_nudge('biz_disp', (select id from public.recovery_cases where company_id = 'biz_disp'), 'dm', 'user_admin')$$,
  'P0002', null, 'a closed case cannot be nudged');
select ok(private.create_manual_nudge('biz_noexp', (select id from public.recovery_cases where company_id = 'biz_noexp'), 'dm', 'user_admin') > 0,
  'an open case gets an immediate manual nudge');
select is((select count(*)::int from public.audit_log where company_id = 'biz_noexp' and action = 'case.nudge'), 1, '... audited');

select * from finish();
rollback;
