-- The recovery-case state machine, called the way the webhook function calls it
-- (public.ingest_webhook_event), plus expiry, dismissal and the backlog processor.
begin;
select plan(40);

update public.feature_flags set enabled = true, rollout_percent = 100 where name = 'WEBHOOK_PROCESSING_ENABLED';
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';

-- ingest(id, company, type, at, membership, amount, extra)
create function pg_temp.ingest(p_id text, p_company text, p_type text, p_at timestamptz, p_membership text,
                               p_amount bigint default null, p_extra jsonb default '{}') returns jsonb
language sql as $$
  select public.ingest_webhook_event(jsonb_build_object(
    'id', p_id, 'company_id', p_company, 'type', p_type, 'raw_type', p_type, 'api_version', 'v1',
    'occurred_at', p_at, 'membership_id', p_membership, 'user_id', 'user_' || p_membership,
    'amount_minor', p_amount, 'currency', case when p_amount is not null then 'usd' end) || p_extra)
$$;
create function pg_temp.case_of(p_company text, p_membership text) returns public.recovery_cases
language sql as $$
  select * from public.recovery_cases where company_id = p_company and membership_id = p_membership
  order by opened_at desc limit 1
$$;

-- Open, with default settings provisioned for a new company.
select is(pg_temp.ingest('m1', 'biz_eng', 'payment.failed', now() - interval '1 hour', 'mem_a', 2999) ->> 'status',
  'stored', 'a new event is stored');
select is((select count(*)::int from public.company_settings where company_id = 'biz_eng'), 1,
  'a company seen for the first time gets default settings');
select is((pg_temp.case_of('biz_eng', 'mem_a')).status, 'open', 'payment.failed opens a case');
select is((pg_temp.case_of('biz_eng', 'mem_a')).reason, 'payment_failed', '... for payment_failed');
select is((pg_temp.case_of('biz_eng', 'mem_a')).amount_at_risk_minor, 2999::bigint, '... with the amount at risk');
select is((select count(*)::int from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
           where rc.membership_id = 'mem_a' and j.status = 'pending'), 7,
  'opening schedules 3 offsets x 2 channels, and the incentive with the first');
select is(pg_temp.ingest('m1', 'biz_eng', 'payment.failed', now() - interval '1 hour', 'mem_a', 2999) ->> 'status',
  'duplicate', 'the same webhook id twice is a no-op');

-- Merge.
select pg_temp.ingest('m2', 'biz_eng', 'payment.failed', now() - interval '30 minutes', 'mem_a', 3999);
select is((pg_temp.case_of('biz_eng', 'mem_a')).failure_count, 2, 'a repeated failure merges into the open case');
select is((pg_temp.case_of('biz_eng', 'mem_a')).amount_at_risk_minor, 3999::bigint, '... with the latest amount');
select is((select count(*)::int from public.recovery_cases where membership_id = 'mem_a'), 1, '... and no second case');
select is((select count(*)::int from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
           where rc.membership_id = 'mem_a'), 7, '... and the schedule is not restarted');

-- Recovered: organic, nudged, click_through.
select pg_temp.ingest('m3', 'biz_eng', 'payment.succeeded', now() - interval '10 minutes', 'mem_a', 3999);
select is((pg_temp.case_of('biz_eng', 'mem_a')).status, 'recovered', 'payment.succeeded recovers the case');
select is((pg_temp.case_of('biz_eng', 'mem_a')).attribution, 'organic', '... organically without nudges or clicks');
select is((pg_temp.case_of('biz_eng', 'mem_a')).recovered_amount_minor, 3999::bigint, '... with the recovered amount');
select is((select count(*)::int from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
           where rc.membership_id = 'mem_a' and j.status = 'cancelled'), 7, 'closing cancels the pending nudges');

select pg_temp.ingest('n1', 'biz_eng', 'payment.requires_action', now() - interval '2 hours', 'mem_n', 1000);
select is((pg_temp.case_of('biz_eng', 'mem_n')).reason, 'action_required', 'payment.requires_action opens action_required');
update public.job_queue j set status = 'sent', sent_at = now() - interval '90 minutes'
from public.recovery_cases rc where rc.id = j.case_id and rc.membership_id = 'mem_n' and j.step = 0;
select pg_temp.ingest('n2', 'biz_eng', 'payment.succeeded', now() - interval '1 hour', 'mem_n', 1000);
select is((pg_temp.case_of('biz_eng', 'mem_n')).attribution, 'nudged', 'a recovery after a delivered nudge is nudged');
select is((select count(*)::int from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
           where rc.membership_id = 'mem_n' and j.status = 'sent'), 3, 'sent nudges stay sent when the case closes');

select pg_temp.ingest('c1', 'biz_eng', 'membership.cancel_at_period_end_changed', now() - interval '2 hours', 'mem_c', null,
  '{"cancel_at_period_end": true}');
select is((pg_temp.case_of('biz_eng', 'mem_c')).reason, 'cancel_scheduled', 'cancel at period end opens cancel_scheduled');
insert into public.link_clicks (company_id, case_id, clicked_at)
select company_id, id, now() - interval '90 minutes' from public.recovery_cases where membership_id = 'mem_c';
select pg_temp.ingest('c2', 'biz_eng', 'membership.cancel_at_period_end_changed', now() - interval '1 hour', 'mem_c', null,
  '{"cancel_at_period_end": false}');
select is((pg_temp.case_of('biz_eng', 'mem_c')).status, 'recovered', 'undoing the cancellation recovers the case');
select is((pg_temp.case_of('biz_eng', 'mem_c')).attribution, 'click_through', '... as click_through after a click');

-- Lost, win-back, deactivated without a case.
select pg_temp.ingest('l1', 'biz_eng', 'payment.failed', now() - interval '3 days', 'mem_l', 500);
select pg_temp.ingest('l2', 'biz_eng', 'membership.deactivated', now() - interval '2 days', 'mem_l');
select is((pg_temp.case_of('biz_eng', 'mem_l')).status, 'lost', 'membership.deactivated while open: lost');
select pg_temp.ingest('l3', 'biz_eng', 'membership.activated', now() - interval '1 day', 'mem_l');
select is((pg_temp.case_of('biz_eng', 'mem_l')).status, 'recovered', 'a success inside the window wins a lost case back');
select is((pg_temp.case_of('biz_eng', 'mem_l')).recovered_amount_minor, 500::bigint, '... recovering the amount at risk');

select pg_temp.ingest('d1', 'biz_eng', 'membership.deactivated', now() - interval '1 day', 'mem_d');
select is((pg_temp.case_of('biz_eng', 'mem_d')).reason, 'membership_deactivated',
  'membership.deactivated with no open case opens membership_deactivated');

-- Outside the window: expired, and a late success does not recover.
select pg_temp.ingest('x1', 'biz_eng', 'payment.failed', now() - interval '20 days', 'mem_x', 700);
select is((pg_temp.case_of('biz_eng', 'mem_x')).status, 'expired', 'a case older than its window is expired');
select is((pg_temp.case_of('biz_eng', 'mem_x')).closed_at, now() - interval '6 days', '... closed at the end of the window');
select pg_temp.ingest('x2', 'biz_eng', 'payment.succeeded', now() - interval '1 day', 'mem_x', 700);
select is((pg_temp.case_of('biz_eng', 'mem_x')).status, 'expired', 'a success after the window does not recover it');

-- Cron expiry.
insert into public.recovery_cases (company_id, membership_id, reason, opened_at)
values ('biz_eng', 'mem_cron', 'payment_failed', now() - interval '15 days');
select is(private.expire_due_cases(), 1, 'the cron function expires open cases past their window');
select is((pg_temp.case_of('biz_eng', 'mem_cron')).status, 'expired', '... to expired');

-- Dismissal survives replays.
select pg_temp.ingest('s1', 'biz_eng', 'payment.failed', now() - interval '2 hours', 'mem_s', 100);
select ok(private.dismiss_case('biz_eng', (pg_temp.case_of('biz_eng', 'mem_s')).id, 'user_admin'), 'an open case can be dismissed');
select is((select count(*)::int from public.audit_log where action = 'case.dismiss' and actor = 'user_admin'), 1, '... audited');
select pg_temp.ingest('s2', 'biz_eng', 'payment.failed', now() + interval '1 minute', 'mem_s', 100);
select is((select array_agg(status order by opened_at) from public.recovery_cases where membership_id = 'mem_s'),
  array['dismissed', 'open'], 'a dismissed case stays dismissed; a later failure opens a new case');

-- Tenancy: the same membership id in two companies.
select pg_temp.ingest('t1', 'biz_other', 'payment.failed', now() - interval '1 hour', 'mem_a', 5);
select is((select count(*)::int from public.recovery_cases where membership_id = 'mem_a' and company_id = 'biz_other'
           and status = 'open'), 1, 'the same membership id in another company opens its own case');
select is((pg_temp.case_of('biz_eng', 'mem_a')).status, 'recovered', '... without touching the first company''s case');

-- Sends later nudges at the company's hour in its time zone.
insert into public.companies (company_id) values ('biz_tz');
insert into public.company_settings (company_id, time_zone, send_hour) values ('biz_tz', 'America/New_York', 9);
-- 2027-03-12 03:00 UTC is still March 11 in New York; DST starts there on March 14.
select pg_temp.ingest('z1', 'biz_tz', 'payment.failed', '2027-03-12T03:00:00Z', 'mem_z', 100);
select is((select array_agg(scheduled_for order by step) from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
           where rc.membership_id = 'mem_z' and j.channel = 'push'),
  array['2027-03-12T03:00:00Z', '2027-03-13T14:00:00Z', '2027-03-15T13:00:00Z']::timestamptz[],
  'day 0 at once, days 2 and 4 at 09:00 New York time (across the DST change)');

-- Processing off: stored, not processed; the backlog processor catches up in event-time order.
update public.feature_flags set enabled = false where name = 'WEBHOOK_PROCESSING_ENABLED';
select is(pg_temp.ingest('p2', 'biz_eng', 'payment.succeeded', now() - interval '1 hour', 'mem_p', 100) ->> 'processed',
  'false', 'with processing off, events are stored but not processed');
select pg_temp.ingest('p1', 'biz_eng', 'payment.failed', now() - interval '2 hours', 'mem_p', 100);
select is((select count(*)::int from public.recovery_cases where membership_id = 'mem_p'), 0, '... and open no case');
update public.feature_flags set enabled = true where name = 'WEBHOOK_PROCESSING_ENABLED';
select is((public.process_pending_events() ->> 'remaining')::int, 0, 'the backlog processor processes everything');
select is((pg_temp.case_of('biz_eng', 'mem_p')).status, 'recovered', '... in event-time order, not arrival order');

select * from finish();
rollback;
