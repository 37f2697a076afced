-- Leases that cannot wedge or double: the breaker's probe is leased and every answer moves it out of
-- half_open (20261203001000_breaker_probe_lease.sql); a batch holds its jobs' leases while it works
-- and hands back what it did not start (20261203001010_job_lease_heartbeat.sql).
begin;
select plan(30);

update public.feature_flags set enabled = true, rollout_percent = 100, company_allowlist = '{}'
where name in ('WEBHOOK_PROCESSING_ENABLED', 'SCHEDULER_ENABLED', 'NOTIFICATIONS_ENABLED');
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';
update public.job_queue set status = 'cancelled' where status in ('pending', 'claimed');
update public.circuit_breakers set state = 'closed', consecutive_failures = 0, opened_at = null, retry_at = null;

-- --- the probe: leased, taken over once the lease has passed (its dispatcher was killed).
select public.breaker_record('push', 'failing', 1, 30);
select ok(public.breaker_try_probe('push', 'doomed', 60, now() + interval '31 seconds'), 'the probe is taken after the cool-off');
select is((select (state, probe_holder, probe_lease_expires_at = now() + interval '91 seconds')::text
           from public.circuit_breakers where channel = 'push'), '(half_open,doomed,t)', '... leased to its holder');
select ok(not public.breaker_try_probe('push', 'w2', 60, now() + interval '90 seconds'),
  'no one else probes while the lease holds');
select ok(public.breaker_try_probe('push', 'w2', 60, now() + interval '92 seconds'),
  'a probe never answered (its dispatcher died) is taken over once its lease has passed');
select is((select probe_holder from public.circuit_breakers where channel = 'push'), 'w2', '... by the new holder');

-- --- every answer leaves half_open.
select is(public.breaker_record('push', 'reachable', 1, 30, now() + interval '93 seconds'), 'closed',
  'a probe answered (a 2xx, or a 4xx such as 422) closes the breaker');
select is((select (consecutive_failures, probe_holder, probe_lease_expires_at, retry_at)::text
           from public.circuit_breakers where channel = 'push'), '(0,,,)', '... and clears the probe');

select public.breaker_record('dm', 'failing', 1, 30);
select public.breaker_try_probe('dm', 'w1', 60, now() + interval '31 seconds');
select is(public.breaker_record('dm', 'rate_limited', 1, 30, now() + interval '32 seconds', 12), 'open',
  'a probe answered 429 re-opens the breaker');
select is((select (retry_at = now() + interval '44 seconds', cooloff_seconds, probe_holder)::text
           from public.circuit_breakers where channel = 'dm'), '(t,12,)', '... until the advised delay');
select ok(not public.breaker_try_probe('dm', 'w2', 60, now() + interval '43 seconds'), 'no probe before it');
select ok(public.breaker_try_probe('dm', 'w2', 60, now() + interval '44 seconds'), 'the next probe at it');
select is(public.breaker_record('dm', 'failing', 1, 30, now() + interval '45 seconds'), 'open',
  'a probe answered 5xx re-opens it');
select is((select (retry_at = now() + interval '75 seconds', probe_holder)::text from public.circuit_breakers
           where channel = 'dm'), '(t,)', '... for a cool-off, the probe cleared');

-- An unanswered probe (its job called nothing) is handed back, by its holder only.
select public.breaker_try_probe('dm', 'w3', 60, now() + interval '80 seconds');
select is(public.breaker_record('dm', 'unanswered', 1, 30, now() + interval '81 seconds', null, 'w4'), 'half_open',
  'only the holder hands a probe back');
select is(public.breaker_record('dm', 'unanswered', 1, 30, now() + interval '81 seconds', null, 'w3'), 'open',
  'the holder hands it back');
select ok(public.breaker_try_probe('dm', 'w5', 60, now() + interval '81 seconds'), '... and another probe can go at once');

select is(public.breaker_record('incentive', 'rate_limited', 5, 30), 'closed', 'a 429 outside a probe changes nothing');
update public.circuit_breakers set state = 'half_open', probe_holder = null, probe_lease_expires_at = null
where channel = 'incentive';
select ok(public.breaker_try_probe('incentive', 'w1', 60), 'a half_open breaker without a probe lease (from before) is taken');
select throws_ok($$select public.breaker_record('push', 'maybe')$$, '22023', null, 'an unknown answer is refused');

-- --- job leases.
insert into public.companies (company_id) values ('biz_lease');
insert into public.company_settings (company_id, experience_id) values ('biz_lease', 'exp_lease');
insert into public.recovery_cases (company_id, membership_id, user_id, reason, opened_at)
select 'biz_lease', 'mem_lease_' || n, 'user_lease_' || n, 'payment_failed', now() - interval '1 hour'
from generate_series(1, 3) n;
insert into public.job_queue (case_id, company_id, channel, step, scheduled_for)
select id, 'biz_lease', 'push', 0, now() - interval '1 minute' from public.recovery_cases where company_id = 'biz_lease';
create temp table c as select job_id from public.claim_due_jobs('w1', 10, 60) where company_id = 'biz_lease';

select is((select count(*)::int from private.hold_job_leases('w1', (select array_agg(job_id) from c), 60,
                                                              now() + interval '50 seconds')), 3,
  'the holder extends its jobs'' leases');
select is((select count(*)::int from public.job_queue where company_id = 'biz_lease'
           and lease_expires_at = now() + interval '110 seconds'), 3, '... by a whole lease from then');
select is((select count(*)::int from public.claim_due_jobs('w2', 10, 60, now() + interval '100 seconds')), 0,
  'so another dispatcher cannot claim them after the first lease');
select is((select count(*)::int from private.hold_job_leases('w2', (select array_agg(job_id) from c), 60)), 0,
  'another worker cannot extend them');
select is((select count(*)::int from private.hold_job_leases('w1', (select array_agg(job_id) from c), 60,
                                                              now() + interval '5 minutes')), 3,
  'a lease run out that nobody claimed is still its holder''s');

-- Claimed again after the lease: the first holder can neither extend, send (no lease) nor complete.
create temp table c2 as select job_id from public.claim_due_jobs('w2', 1, 60, now() + interval '7 minutes');
select is((select count(*)::int from private.hold_job_leases('w1', (select array_agg(job_id) from c2), 60,
                                                              now() + interval '7 minutes')), 0,
  'once claimed again, the old holder''s lease is gone');
select ok(not public.complete_job((select job_id from c2), 'w1', 'sent'), '... and its completion is refused');

-- Handed back unstarted: due again, the claim's attempt taken back, nothing recorded.
select is(private.release_jobs('w1', (select array_agg(job_id) from c)), 2, 'the holder hands back the jobs still its own');
select is((select string_agg(status || ':' || attempts, ',') from public.job_queue where company_id = 'biz_lease'
           and id not in (select job_id from c2)), 'pending:0,pending:0', '... pending, not an attempt');
select is((select count(*)::int from public.claim_due_jobs('w3', 10, 60, now() + interval '7 minutes')
           where company_id = 'biz_lease'), 2, '... and due at once');

select ok(not has_function_privilege('authenticated', 'private.hold_job_leases(text, bigint[], integer, timestamptz)', 'execute')
  and not has_function_privilege('authenticated', 'public.breaker_record(text, text, integer, integer, timestamptz, integer, text)', 'execute')
  and has_function_privilege('service_role', 'private.release_jobs(text, bigint[])', 'execute')
  and has_function_privilege('service_role', 'public.breaker_try_probe(text, text, integer, timestamptz)', 'execute'),
  'only the service role may call them');

select * from finish();
rollback;
