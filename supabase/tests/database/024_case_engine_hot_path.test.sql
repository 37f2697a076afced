-- The case engine's hot path (issue 12): a new case is written once, with its offer (no second
-- UPDATE of the row just inserted); the offer rule is unchanged (the company's days, none for a lost
-- membership, decided the first time the case is open and then kept); the pure helpers are
-- inlinable (no `set` clause) and flag_enabled still pins its search_path.
begin;
select plan(12);

update public.feature_flags set enabled = true, rollout_percent = 100, company_allowlist = '{}'
where name = 'WEBHOOK_PROCESSING_ENABLED';
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';

create function pg_temp.ingest(p_id text, p_type text, p_membership text) returns jsonb language sql as $$
  select public.ingest_webhook_event(jsonb_build_object(
    'id', p_id, 'company_id', 'biz_hot_path', 'company_title', 'Hot Path', 'type', p_type, 'raw_type', p_type,
    'api_version', 'v1', 'occurred_at', now() - interval '1 minute', 'membership_id', p_membership,
    'user_id', 'user_' || p_membership, 'amount_minor', 2999, 'currency', 'usd',
    'billing_reason', 'subscription_cycle'))
$$;
create function pg_temp.case_updates() returns bigint language sql as
  $$ select pg_stat_get_xact_tuples_updated('public.recovery_cases'::regclass) $$;
create temp table marks (at text primary key, n bigint);

insert into public.companies (company_id, title) values ('biz_hot_path', 'Hot Path');
insert into public.company_settings (company_id, incentive_free_days) values ('biz_hot_path', 5);

insert into marks values ('before', pg_temp.case_updates());
select pg_temp.ingest('msg_hp_1', 'payment.failed', 'mem_hp_a');
select is(pg_temp.case_updates() - (select n from marks where at = 'before'), 0::bigint,
  'opening a case writes its row once');
select is((select incentive_free_days from public.recovery_cases where membership_id = 'mem_hp_a'), 5::smallint,
  'with the company''s free days as its offer');
select is((select count(*)::int from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
           where rc.membership_id = 'mem_hp_a' and j.channel = 'incentive'), 1, 'and its one waiting grant');

select pg_temp.ingest('msg_hp_2', 'membership.deactivated', 'mem_hp_b');
select is((select incentive_free_days from public.recovery_cases where membership_id = 'mem_hp_b'), 0::smallint,
  'a lost membership''s case offers no days');
select is((select count(*)::int from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
           where rc.membership_id = 'mem_hp_b' and j.channel = 'incentive'), 0, 'and schedules no grant');

-- The offer is kept once decided: a later settings change does not touch an open case.
update public.company_settings set incentive_free_days = 9 where company_id = 'biz_hot_path';
select pg_temp.ingest('msg_hp_3', 'payment.failed', 'mem_hp_a');
select is((select incentive_free_days from public.recovery_cases where membership_id = 'mem_hp_a'), 5::smallint,
  'a second failure of the open case keeps its offer');

-- A case written closed gets no offer; reopened without one, it gets today's.
insert into public.recovery_cases (company_id, membership_id, status, reason, opened_at, closed_at)
values ('biz_hot_path', 'mem_hp_c', 'expired', 'payment_failed', now() - interval '20 days', now() - interval '6 days');
select is((select incentive_free_days from public.recovery_cases where membership_id = 'mem_hp_c'), null::smallint,
  'a case written closed has no offer');
update public.recovery_cases set status = 'open', closed_at = null where membership_id = 'mem_hp_c';
select is((select incentive_free_days from public.recovery_cases where membership_id = 'mem_hp_c'), 9::smallint,
  'reopened, it gets the company''s days of now');
update public.recovery_cases set incentive_free_days = 2 where membership_id = 'mem_hp_c';
update public.recovery_cases set status = 'dismissed', closed_at = now() where membership_id = 'mem_hp_c';
update public.recovery_cases set status = 'open', closed_at = null where membership_id = 'mem_hp_c';
select is((select incentive_free_days from public.recovery_cases where membership_id = 'mem_hp_c'), 2::smallint,
  'an offer already decided is never replaced');

select is(
  (select array_agg(p.proname::text order by p.proname) from pg_proc p
   where p.pronamespace = 'private'::regnamespace and p.prolang = (select oid from pg_language where lanname = 'sql')
     and p.proname in ('company_bucket', 'case_reason', 'event_effect', 'nudge_due_at')
     and p.provolatile = 'i' and p.proconfig is null and not p.prosecdef
     and (p.proname <> 'event_effect' or p.pronargs = 3)),
  array['case_reason', 'company_bucket', 'event_effect', 'nudge_due_at'],
  'the pure helpers are immutable SQL without a set clause, so the planner inlines them');
select ok((select proconfig @> array['search_path=""'] from pg_proc where oid = 'private.flag_enabled(text, text)'::regprocedure),
  'flag_enabled reads tables and keeps its empty search_path');
select is(private.flag_enabled('WEBHOOK_PROCESSING_ENABLED', 'biz_hot_path'), true, 'and still answers');

select * from finish();
rollback;
