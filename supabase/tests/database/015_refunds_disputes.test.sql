-- What an event means (20261203000200_refunds_disputes_first_checkouts.sql), called the way the
-- webhook function calls it: a failed first checkout opens nothing; a refund or dispute ends an open
-- case as lost with closed_by and cancels its nudges, takes back a recovery inside the window, is
-- never won back, keeps the deactivation that follows from opening a case; a new failure starts
-- afresh. Delivery order does not matter; the integrity checks and retention agree.
begin;
select plan(33);

update public.feature_flags set enabled = true, rollout_percent = 100 where name = 'WEBHOOK_PROCESSING_ENABLED';
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';

-- ingest(id, company, type, hours from now, membership, billing_reason)
create function pg_temp.ingest(p_id text, p_company text, p_type text, p_hours numeric, p_membership text,
                               p_billing_reason text default 'subscription_cycle') returns jsonb
language sql as $$
  select public.ingest_webhook_event(jsonb_build_object(
    'id', p_id, 'company_id', p_company, 'type', p_type, 'raw_type', p_type, 'api_version', 'v1',
    'occurred_at', now() + make_interval(secs => p_hours * 3600), 'membership_id', p_membership,
    'user_id', 'user_' || p_membership, 'amount_minor', 2999, 'currency', 'usd',
    'billing_reason', case when p_type like 'payment.%' then p_billing_reason end))
$$;
create function pg_temp.cases(p_company text, p_membership text) returns text[]
language sql as $$
  select coalesce(array_agg(rc.status || coalesce(':' || rc.closed_by, '') order by rc.opened_at), '{}')
  from public.recovery_cases rc where rc.company_id = p_company and rc.membership_id = p_membership
$$;
create function pg_temp.jobs(p_company text, p_membership text, p_status text) returns integer
language sql as $$
  select count(*)::int from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
  where rc.company_id = p_company and rc.membership_id = p_membership and j.status = p_status
$$;

-- The effect of each event.
select is(private.event_effect('payment.failed', null, 'subscription_create'), null,
  'a failed first checkout has no effect');
select is(private.event_effect('payment.requires_action', null, 'subscription_create'), null,
  '... nor does one needing action');
select is(private.event_effect('payment.failed', null, 'subscription_cycle'), 'fail', 'a failed renewal is a failure');
select is(private.event_effect('payment.failed', null, null), 'fail', '... and so is a failure without billing reason');
select is(private.event_effect('payment.succeeded', null, 'subscription_create'), 'success',
  'successes are unchanged, whatever the billing reason');
select is(private.event_effect('refund.created', null, null), 'refund', 'refund.created is a refund');
select is(private.event_effect('dispute.created', null), 'dispute', 'the 2-argument form still answers (dispute)');
select is(private.event_effect('payment.failed', null), 'fail', '... as before for failures');

-- A failed first checkout: stored and processed, no case, no nudges.
select is(pg_temp.ingest('rd_fc1', 'biz_rd', 'payment.failed', -3, 'mem_fc', 'subscription_create') ->> 'status',
  'stored', 'a failed first checkout is stored');
select ok((select processed_at is not null from public.events where id = 'rd_fc1'), '... and processed');
select is(pg_temp.cases('biz_rd', 'mem_fc'), '{}'::text[], '... and opens no case');
select is((select count(*)::int from public.job_queue where company_id = 'biz_rd'), 0, '... so nobody is nudged');
select pg_temp.ingest('rd_fc2', 'biz_rd', 'payment.failed', -2, 'mem_fc', 'subscription_cycle');
select pg_temp.ingest('rd_fc3', 'biz_rd', 'payment.failed', -1, 'mem_fc', 'subscription_create');
select is(pg_temp.cases('biz_rd', 'mem_fc'), array['open'], 'a failed renewal opens a case');
select is((select failure_count from public.recovery_cases where company_id = 'biz_rd' and membership_id = 'mem_fc'), 1,
  '... into which a failed first checkout does not merge');

-- Open case + refund: lost, closed by the refund, nudges cancelled.
select pg_temp.ingest('rd_r1', 'biz_rd', 'payment.failed', -5, 'mem_r');
select ok(pg_temp.jobs('biz_rd', 'mem_r', 'pending') > 0, 'an open case has pending nudges');
select pg_temp.ingest('rd_r2', 'biz_rd', 'refund.created', -4, 'mem_r');
select is(pg_temp.cases('biz_rd', 'mem_r'), array['lost:refund'], 'a refund closes the open case as lost, closed_by refund');
select is((select closing_event_id from public.recovery_cases where company_id = 'biz_rd' and membership_id = 'mem_r'), 'rd_r2',
  '... closed by the refund event');
select is(pg_temp.jobs('biz_rd', 'mem_r', 'pending'), 0, '... with no nudge left pending');
select ok(pg_temp.jobs('biz_rd', 'mem_r', 'cancelled') > 0, '... they are cancelled');
select pg_temp.ingest('rd_r3', 'biz_rd', 'membership.deactivated', -3.5, 'mem_r');
select is(pg_temp.cases('biz_rd', 'mem_r'), array['lost:refund'],
  'the deactivation that follows a refund opens no membership_deactivated case');
select pg_temp.ingest('rd_r4', 'biz_rd', 'payment.succeeded', -3, 'mem_r');
select is(pg_temp.cases('biz_rd', 'mem_r'), array['lost:refund'], 'a later success wins nothing back');
select pg_temp.ingest('rd_r7', 'biz_rd', 'payment.failed', -1, 'mem_r');
select is(pg_temp.cases('biz_rd', 'mem_r'), array['lost:refund', 'open'], 'a new failed renewal starts afresh');

-- Open case + dispute.
select pg_temp.ingest('rd_d1', 'biz_rd', 'payment.requires_action', -5, 'mem_d');
select pg_temp.ingest('rd_d2', 'biz_rd', 'dispute.created', -4, 'mem_d');
select is(pg_temp.cases('biz_rd', 'mem_d'), array['lost:dispute'], 'a dispute closes the open case, closed_by dispute');

-- Recovered, then refunded inside the window: not a recovery any more.
select pg_temp.ingest('rd_v1', 'biz_rd', 'payment.failed', -50, 'mem_v');
select pg_temp.ingest('rd_v2', 'biz_rd', 'payment.succeeded', -40, 'mem_v');
select is(pg_temp.cases('biz_rd', 'mem_v'), array['recovered'], 'fixture: a recovered case');
select pg_temp.ingest('rd_v3', 'biz_rd', 'refund.created', -30, 'mem_v');
select is(
  (select array[status, closed_by, attribution, recovered_amount_minor::text, closing_event_id]
   from public.recovery_cases where company_id = 'biz_rd' and membership_id = 'mem_v'),
  array['lost', 'refund', null, null, 'rd_v3'],
  'a refund inside the window takes the recovery back: lost, no attribution, no recovered amount');

-- ... but not after the window.
select pg_temp.ingest('rd_w1', 'biz_rd', 'payment.failed', -20 * 24, 'mem_w');
select pg_temp.ingest('rd_w2', 'biz_rd', 'payment.succeeded', -20 * 24 + 1, 'mem_w');
select pg_temp.ingest('rd_w3', 'biz_rd', 'dispute.created', -1, 'mem_w');
select is(pg_temp.cases('biz_rd', 'mem_w'), array['recovered'], 'a dispute after the window leaves the recovery alone');

-- Out of order: the refund delivered before the failure it follows.
select pg_temp.ingest('rd_o2', 'biz_rd', 'refund.created', -4, 'mem_o');
select is(pg_temp.cases('biz_rd', 'mem_o'), '{}'::text[], 'a refund alone opens nothing');
select pg_temp.ingest('rd_o1', 'biz_rd', 'payment.failed', -5, 'mem_o');
select is(
  (select array[status, closed_by, opening_event_id, closing_event_id] from public.recovery_cases where company_id = 'biz_rd' and membership_id = 'mem_o'),
  array['lost', 'refund', 'rd_o1', 'rd_o2'], 'delivered late, the failure ends in the in-order state');
select is(pg_temp.jobs('biz_rd', 'mem_o', 'pending'), 0, '... with nothing pending');

-- The row's own rules.
select throws_ok(
  $$update public.recovery_cases set closed_by = 'refund' where company_id = 'biz_rd' and membership_id = 'mem_w'$$,
  '23514', null, 'closed_by only on a lost case');
select throws_ok(
  $$update public.recovery_cases set closed_by = 'chargeback' where company_id = 'biz_rd' and membership_id = 'mem_d'$$,
  '23514', null, 'closed_by is refund or dispute');

-- The integrity checks expect no case for a failed first checkout.
select private.run_integrity_checks(now(), 'test') as run_id \gset
select is(
  (select f.violations from public.integrity_findings f
   where f.run_id = :run_id and f.check_name = 'failed_payment_has_case'),
  0::bigint, 'the integrity checks do not count a failed first checkout as a failure without a case');

-- Retention keeps a recovered case's events while a refund could still take it back.
update public.company_settings set attribution_window_days = 90 where company_id = 'biz_rd';
select pg_temp.ingest('rd_t1', 'biz_rd', 'payment.failed', -40 * 24, 'mem_t');
select pg_temp.ingest('rd_t2', 'biz_rd', 'payment.succeeded', -39 * 24, 'mem_t');
update public.events set received_at = occurred_at where company_id = 'biz_rd' and membership_id = 'mem_t';
select is((select count(*)::int from private.event_purge_cut('biz_rd', 'mem_t', now() - interval '30 days')), 0,
  'the events of a case recovered inside the window are not purged yet');

select * from finish();
rollback;
