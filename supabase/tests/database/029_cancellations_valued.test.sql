-- Cancellations valued in revenue at risk (20261208000200_cancellations_valued.sql): a case that opens
-- without an amount (a scheduled cancellation, a deactivation) takes the membership's latest payment
-- amount and currency; withdrawn, it recovers that amount; a membership with no payment stays unvalued;
-- a failed payment keeps its own amount.
begin;
select plan(8);

update public.feature_flags set enabled = true, rollout_percent = 100, company_allowlist = '{}'
where name = 'WEBHOOK_PROCESSING_ENABLED';
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';

create function pg_temp.ingest(p_id text, p_type text, p_at timestamptz, p_membership text,
                               p_amount bigint default null, p_currency text default 'eur',
                               p_extra jsonb default '{}') returns jsonb
language sql as $$
  select public.ingest_webhook_event(jsonb_build_object(
    'id', p_id, 'company_id', 'biz_value', 'type', p_type, 'raw_type', p_type, 'api_version', 'v1',
    'occurred_at', p_at, 'membership_id', p_membership, 'user_id', 'user_' || p_membership,
    'amount_minor', p_amount, 'currency', case when p_amount is not null then p_currency end) || p_extra)
$$;
create function pg_temp.case_of(p_membership text) returns public.recovery_cases
language sql as $$
  select * from public.recovery_cases where company_id = 'biz_value' and membership_id = p_membership
  order by opened_at desc limit 1
$$;

-- Paid 29.00 EUR last cycle, then scheduled a cancellation.
select pg_temp.ingest('v1', 'payment.succeeded', now() - interval '20 days', 'mem_v1', 2900);
select pg_temp.ingest('v2', 'membership.cancel_at_period_end_changed', now() - interval '2 days', 'mem_v1',
  p_extra => '{"cancel_at_period_end": true}');
select is((pg_temp.case_of('mem_v1')).reason, 'cancel_scheduled', 'a scheduled cancellation opens a case');
select is((pg_temp.case_of('mem_v1')).amount_at_risk_minor, 2900::bigint, '... valued at the last payment');
select is((pg_temp.case_of('mem_v1')).currency, 'eur', '... in its currency');

-- Withdrawn: the renewal is kept, and that amount is recovered.
select pg_temp.ingest('v3', 'membership.cancel_at_period_end_changed', now() - interval '1 day', 'mem_v1',
  p_extra => '{"cancel_at_period_end": false}');
select is((pg_temp.case_of('mem_v1')).recovered_amount_minor, 2900::bigint, 'a withdrawn cancellation recovers it');

-- No payment seen: nothing to value it with.
select pg_temp.ingest('v4', 'membership.cancel_at_period_end_changed', now() - interval '1 day', 'mem_v2',
  p_extra => '{"cancel_at_period_end": true}');
select is((pg_temp.case_of('mem_v2')).amount_at_risk_minor, null, 'without a payment a cancellation stays unvalued');

-- A failed payment keeps its own amount, whatever was paid before.
select pg_temp.ingest('v5', 'payment.succeeded', now() - interval '40 days', 'mem_v3', 1000);
select pg_temp.ingest('v6', 'payment.failed', now() - interval '3 days', 'mem_v3', 1500);
select is((pg_temp.case_of('mem_v3')).amount_at_risk_minor, 1500::bigint, 'a failed payment keeps its own amount');

-- A deactivation with no case before it.
select pg_temp.ingest('v7', 'payment.succeeded', now() - interval '20 days', 'mem_v4', 4900, 'usd');
select pg_temp.ingest('v8', 'membership.deactivated', now() - interval '1 day', 'mem_v4');
select is((pg_temp.case_of('mem_v4')).reason, 'membership_deactivated', 'a deactivation opens a case');
select is((pg_temp.case_of('mem_v4')).amount_at_risk_minor, 4900::bigint, '... valued at the last payment too');
rollback;
