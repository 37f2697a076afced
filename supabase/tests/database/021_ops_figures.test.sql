-- The operational figures defined once in SQL (issue 11): delivery success counting retries and
-- dead jobs, webhook figures, breakers open longer than their cool-off (through re-opens), flag
-- coverage by the per-company hash, and the hold a point-in-time restore puts on processing.
begin;
select plan(31);

update public.feature_flags set enabled = true, rollout_percent = 100, company_allowlist = '{}'
where name in ('WEBHOOK_PROCESSING_ENABLED', 'SCHEDULER_ENABLED', 'NOTIFICATIONS_ENABLED');
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';

-- --- delivery figures. now() is this transaction's start: rows written here are the window's only ones.
insert into public.companies (company_id) values ('biz_ops_fig');
insert into public.company_settings (company_id) values ('biz_ops_fig');
insert into public.recovery_cases (company_id, membership_id, reason, opened_at)
values ('biz_ops_fig', 'mem_ops_fig', 'payment_failed', now() - interval '1 day');
insert into public.job_queue (case_id, company_id, channel, step, origin, scheduled_for, status)
select rc.id, 'biz_ops_fig', ch, 0, 'manual', now() - interval '1 hour', st
from public.recovery_cases rc, (values ('push', 'sent'), ('dm', 'pending'), ('dm', 'suppressed')) v (ch, st)
where rc.company_id = 'biz_ops_fig';
insert into public.notification_attempts (job_id, company_id, status)
select j.id, j.company_id, a.status
from public.job_queue j
join (values ('push', 'sent'), ('push', 'sent'), ('push', 'retry'), ('push', 'dead'), ('push', 'skipped'),
             ('dm', 'retry'), ('dm', 'retry'), ('dm', 'retry')) a (channel, status) on a.channel = j.channel
where j.company_id = 'biz_ops_fig' and j.status <> 'suppressed';
create temp table figures as select * from public.ops_delivery_figures(now());

select results_eq(
  $$ select channel, attempts, tries, sent, retried, failed, dead, skipped, suppressed from figures $$,
  $$ values ('push', 5, 4, 2, 1, 0, 1, 1, 0), ('dm', 3, 3, 0, 3, 0, 0, 0, 1), ('incentive', 0, 0, 0, 0, 0, 0, 0, 0),
            ('all', 8, 7, 2, 4, 0, 1, 1, 1) $$,
  'per channel and all: every attempt, the tries that called Whop, by outcome, and suppressed jobs');
select is((select success_rate from figures where channel = 'push'), 0.5::float8,
  'success = sent / tries: a retry and a dead job are failed tries, a skip is no try');
select is((select (success_rate, failure_rate)::text from figures where channel = 'dm'), '(0,1)',
  'a channel answering only errors (every attempt a retry) has 0% success');
select is((select (success_rate, failure_rate)::text from figures where channel = 'incentive'), '(,)',
  'no try: no rate (null), not 100%');
select is((select success_rate from figures where channel = 'all'), 0.2857::float8, 'all channels: 2 of 7');
select is((select tries from public.ops_delivery_figures(now() - interval '1 hour', now()) where channel = 'all')
            - (select tries from public.ops_delivery_figures(now() - interval '1 hour') where channel = 'all'),
  -7, 'p_until ends the window before it (exclusive)');

-- --- webhook figures, in a window of their own (an hour ahead) so nothing else is counted.
delete from public.webhook_counters;
insert into public.events (id, company_id, type, raw_type, api_version, occurred_at, received_at, processed_at)
select 'msg_ops_fig_' || n, 'biz_ops_fig', 'payment.succeeded', 'payment.succeeded', 'v1',
       now() + interval '1 hour', now() + interval '61 minutes', now() + interval '61 minutes' + make_interval(secs => n)
from generate_series(1, 4) n;
insert into public.webhook_counters (minute, kind, reason, count) values
  (date_trunc('minute', now() + interval '70 minutes'), 'rejected', 'bad_signature', 3),
  (date_trunc('minute', now() + interval '70 minutes'), 'rejected', 'malformed_json', 1),
  (date_trunc('minute', now() + interval '70 minutes'), 'duplicate', '', 2),
  (date_trunc('minute', now() + interval '1 hour'), 'rejected', 'bad_signature', 100);
create temp table hooks as select * from public.ops_webhook_figures(now() + interval '1 hour');
select results_eq(
  $$ select deliveries, stored, processed, duplicates, rejected, signature_failures from hooks $$,
  $$ values (10, 4, 4, 2, 4, 3) $$,
  'deliveries = stored + duplicates + rejected; the minute p_since falls in is not counted');
select is((select rejected_by_reason from hooks), '{"bad_signature": 3, "malformed_json": 1}'::jsonb,
  'rejections by reason');
select is((select (success_rate, duplicate_rate, rejection_rate, signature_failure_rate)::text from hooks),
  '(0.6,0.3333,0.4,0.3)', 'the rates');
select is((select latency_p50_seconds from hooks), 2.5::float8, 'processing latency received -> processed');

-- --- breakers: not closed since their first opening, through a failed probe that re-opens them.
update public.circuit_breakers
set state = 'closed', consecutive_failures = 0, opened_at = null, retry_at = null, cooloff_seconds = null;
create temp table t0 as select now() - interval '10 minutes' as at;
-- As breaker_record opens a breaker: opened and stamped at its clock, retry after the cool-off.
update public.circuit_breakers set state = 'open', consecutive_failures = 5, opened_at = (select at from t0),
  retry_at = (select at from t0) + interval '30 seconds', updated_at = (select at from t0)
where channel = 'push';
select is((select (not_closed_since = (select at from t0), cooloff_seconds)::text from public.circuit_breakers
           where channel = 'push'), '(t,30)', 'opening records since when and the cool-off (retry_at - the opening)');
select is((select stuck from public.ops_breaker_figures((select at from t0) + interval '29 seconds') where channel = 'push'),
  false, 'open within its cool-off: not stuck');
select is((select stuck from public.ops_breaker_figures((select at from t0) + interval '31 seconds') where channel = 'push'),
  true, 'open longer than its cool-off: stuck');
-- The probe (half_open), which fails: open again, opened_at reset.
update public.circuit_breakers set state = 'half_open', updated_at = (select at from t0) + interval '30 seconds'
where channel = 'push';
update public.circuit_breakers set state = 'open', opened_at = (select at from t0) + interval '31 seconds',
  retry_at = (select at from t0) + interval '61 seconds', updated_at = (select at from t0) + interval '31 seconds'
where channel = 'push';
select is((select (not_closed_since = (select at from t0), cooloff_seconds)::text from public.circuit_breakers
           where channel = 'push'), '(t,30)', 'a re-open keeps since when it left closed');
select is((select (stuck, not_closed_seconds)::text from public.ops_breaker_figures((select at from t0) + interval '40 seconds')
           where channel = 'push'), '(t,40)', 'stuck 9 s after the re-open: 40 s not closed > 30 s cool-off');
select is((select stuck from public.ops_breaker_figures() where channel = 'dm'), false, 'a closed breaker is not stuck');
update public.circuit_breakers set state = 'half_open', updated_at = now() - interval '5 minutes' where channel = 'dm';
select is((select (stuck, cooloff_seconds)::text from public.ops_breaker_figures() where channel = 'dm'), '(t,)',
  'a breaker left half_open (a probe that never answered) with no known cool-off is stuck');
update public.circuit_breakers set state = 'closed', consecutive_failures = 0, opened_at = null, retry_at = null,
  updated_at = now() where channel in ('push', 'dm');
select is((select count(*)::int from public.circuit_breakers where not_closed_since is not null), 0,
  'closing clears it');
select is((select count(*)::int from public.ops_breaker_figures() where stuck), 0, 'and nothing is stuck');

-- --- coverage: the per-company hash claim_due_jobs applies, as configured (ROLLBACK_MODE aside).
update public.feature_flags set rollout_percent = 20, company_allowlist = '{biz_ops_fig}' where name = 'SCHEDULER_ENABLED';
update public.feature_flags set rollout_percent = 10 where name = 'NOTIFICATIONS_ENABLED';
select is(
  (select count(*)::int from public.companies c, (values ('WEBHOOK_PROCESSING_ENABLED'), ('SCHEDULER_ENABLED'),
     ('NOTIFICATIONS_ENABLED')) f (name)
   where private.flag_covers(f.name, c.company_id) <> private.flag_enabled(f.name, c.company_id)),
  0, 'flag_covers agrees with flag_enabled for every company while ROLLBACK_MODE is off');
select is((select covered from public.flag_coverage() where name = 'SCHEDULER_ENABLED'),
  (select count(*)::int from public.companies c
   where private.company_bucket(c.company_id) < 20 or c.company_id = 'biz_ops_fig'),
  'the scheduler covers the companies in buckets 0-19 and the listed one');
select is((select (companies, listed)::text from public.flag_coverage() where name = 'SCHEDULER_ENABLED'),
  (select (count(*)::int, 1)::text from public.companies), 'out of every company; one by the allow-list');
select is((select covered from public.flag_coverage() where name = 'NUDGES'),
  (select count(*)::int from public.companies c
   where private.company_bucket(c.company_id) < 10), 'nudges go to companies both scheduled and notified');
update public.feature_flags set rollout_percent = 0, company_allowlist = '{}' where name = 'SCHEDULER_ENABLED';
select is((select (covered, companies > 0)::text from public.flag_coverage() where name = 'SCHEDULER_ENABLED'),
  '(0,t)', 'a scheduler at 0% covers none of the companies');

-- --- after a point-in-time restore: processing held off, audited.
update public.feature_flags set rollout_percent = 100 where name = 'SCHEDULER_ENABLED';
create temp table held as
  select private.hold_processing_after_restore('drill operator', now() - interval '1 hour', '{"backup": "b1"}') as id;
select ok((select enabled from public.feature_flags where name = 'ROLLBACK_MODE')
          and not private.flag_enabled('SCHEDULER_ENABLED') and not private.flag_enabled('WEBHOOK_PROCESSING_ENABLED'),
  'ROLLBACK_MODE on: nothing processed or claimed');
select is((select (actor, action, target_id, before -> 'flags' -> 'ROLLBACK_MODE' ->> 'enabled',
                   after -> 'flags' -> 'ROLLBACK_MODE' ->> 'enabled', after ->> 'backup', company_id is null)::text
           from public.audit_log where id = (select id from held)),
  '("drill operator",pitr.restore,ROLLBACK_MODE,false,true,b1,t)', 'audited with the flags before and after');
select is((select (after ->> 'restored_to')::timestamptz from public.audit_log where id = (select id from held)),
  now() - interval '1 hour', 'with the restore point');
select is((select after -> 'flags' -> 'SCHEDULER_ENABLED' ->> 'rollout_percent' from public.audit_log
           where id = (select id from held)), '100', 'the other flags stay as restored (resume returns to them)');
create temp table held_again as select private.hold_processing_after_restore('drill operator', now(), '{}') as id;
select is((select (target_id is null, after -> 'flags' -> 'ROLLBACK_MODE' ->> 'enabled')::text from public.audit_log
           where id = (select id from held_again)),
  '(t,true)', 'already rolled back: still audited, nothing changed');
select is((select flag_coverage.rollback_mode from public.flag_coverage() limit 1), true,
  'coverage tells ROLLBACK_MODE is on');

select ok(not has_function_privilege('authenticated', 'public.ops_delivery_figures(timestamptz, timestamptz)', 'execute')
  and not has_function_privilege('authenticated', 'public.ops_webhook_figures(timestamptz)', 'execute')
  and not has_function_privilege('authenticated', 'public.ops_breaker_figures(timestamptz)', 'execute')
  and not has_function_privilege('authenticated', 'public.flag_coverage()', 'execute')
  and not has_function_privilege('authenticated', 'private.hold_processing_after_restore(text, timestamptz, jsonb)', 'execute')
  and has_function_privilege('service_role', 'public.ops_delivery_figures(timestamptz, timestamptz)', 'execute'),
  'operator figures: the service role only');

select * from finish();
rollback;
