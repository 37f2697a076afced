-- What the dispatcher notes before a call it may have to repeat (job_queue.observed_before), written only
-- by the lease holder, and how many earlier attempts of a job ended without a known outcome.
begin;
select plan(11);

update public.feature_flags set enabled = true, rollout_percent = 100, company_allowlist = '{}'
where name in ('WEBHOOK_PROCESSING_ENABLED', 'SCHEDULER_ENABLED', 'NOTIFICATIONS_ENABLED');
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';
update public.job_queue set status = 'cancelled' where status in ('pending', 'claimed');

insert into public.companies (company_id) values ('biz_unk');
insert into public.company_settings (company_id, experience_id) values ('biz_unk', 'exp_unk');
insert into public.recovery_cases (company_id, membership_id, user_id, reason, opened_at)
values ('biz_unk', 'mem_unk', 'user_unk', 'payment_failed', now() - interval '1 hour');
insert into public.job_queue (case_id, company_id, channel, step, scheduled_for)
select id, 'biz_unk', 'push', 0, now() - interval '1 minute' from public.recovery_cases where company_id = 'biz_unk';
create temp table j as select id from public.job_queue where company_id = 'biz_unk';

select is((select unknown_attempts from private.job_attempt_history((select id from j))), 0,
  'a job never claimed has no attempt behind it');
select count(*) from public.claim_due_jobs('w1', 10, 60);
select is((select unknown_attempts from private.job_attempt_history((select id from j))), 0,
  'the attempt in progress is not an earlier one');

select ok(not private.record_job_observation((select id from j), 'w2', '{"dm": {}}'),
  'a worker without the lease cannot note anything');
select ok(private.record_job_observation((select id from j), 'w1', '{"free_days": {"renewal_period_end": "2030-01-01T00:00:00Z"}}'),
  'the lease holder notes what it saw');
select is((select observed_before -> 'free_days' ->> 'renewal_period_end' from public.job_queue where id = (select id from j)),
  '2030-01-01T00:00:00Z', '... with the job');
select ok(not private.record_job_observation((select id from j), 'w1', '{}', now() + interval '2 minutes'),
  'not once its lease has run out');
select throws_ok($$ select private.record_job_observation((select id from j), 'w1', '"text"') $$, '23514', null,
  'an observation is a JSON object');

-- A timeout (retry, no status), then a 429, then a claim that left no attempt (a crash).
select public.complete_job((select id from j), 'w1', 'retry', null, 300, 'timeout', now() - interval '1 second');
select count(*) from public.claim_due_jobs('w1', 10, 60);
select public.complete_job((select id from j), 'w1', 'retry', 429, 20, 'rate limited', now() - interval '1 second');
select count(*) from public.claim_due_jobs('w1', 10, 60);
select is((select unknown_attempts from private.job_attempt_history((select id from j))), 1,
  'a timeout is unknown, a 429 is not');
update public.job_queue set lease_expires_at = now() - interval '1 second' where id = (select id from j);
select count(*) from public.claim_due_jobs('w2', 10, 60);
select is((select unknown_attempts from private.job_attempt_history((select id from j))), 2,
  'a claim that recorded nothing (the dispatcher died) counts as unknown');
select is((select observed_before -> 'free_days' ->> 'renewal_period_end' from private.job_attempt_history((select id from j))),
  '2030-01-01T00:00:00Z', 'the new holder sees what the first one noted');

select ok(not has_function_privilege('authenticated', 'private.record_job_observation(bigint, text, jsonb, timestamptz)', 'execute')
  and has_function_privilege('service_role', 'private.job_attempt_history(bigint)', 'execute'),
  'only the service role may call them');

select * from finish();
rollback;
