-- Ingest without hot rows (issue 12 item 3): a redelivery is recognised first and writes nothing
-- (its count is written in batches by the function, private.record_webhook_duplicates, and reaches
-- the ops figures as before); a processed event is stored processed, with no second UPDATE of its
-- row; older unprocessed events of the membership are still marked; processing off still leaves
-- the event for later.
begin;
select plan(16);

update public.feature_flags set enabled = true, rollout_percent = 100, company_allowlist = '{}'
where name = 'WEBHOOK_PROCESSING_ENABLED';
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';
delete from public.webhook_counters;

create function pg_temp.ingest(p_id text, p_type text, p_membership text, p_process boolean default true)
returns jsonb language sql as $$
  select public.ingest_webhook_event(jsonb_build_object(
    'id', p_id, 'company_id', 'biz_hot_rows', 'company_title', 'Hot Rows', 'type', p_type, 'raw_type', p_type,
    'api_version', 'v1', 'occurred_at', now() - interval '1 minute', 'membership_id', p_membership,
    'user_id', 'user_' || p_membership, 'amount_minor', 2999, 'currency', 'usd', 'billing_reason', 'subscription_cycle',
    'member', jsonb_build_object('name_ciphertext', 'first')), p_process)
$$;
create function pg_temp.updates_of_events() returns bigint language sql as
  $$ select pg_stat_get_xact_tuples_updated('public.events'::regclass) $$;
create temp table marks (at text primary key, n bigint);

-- A new renewal failure: stored processed by its insert, its case opened with its nudges.
insert into marks values ('before new', pg_temp.updates_of_events());
select is(pg_temp.ingest('msg_hot_1', 'payment.failed', 'mem_hot_a') ->> 'processed', 'true',
  'a new failure is stored and processed');
select is(pg_temp.updates_of_events() - (select n from marks where at = 'before new'), 0::bigint,
  'storing a processed event does not update its row a second time');
select is((select processed_at from public.events where id = 'msg_hot_1'), now(),
  'processed_at is the time of the transaction that stored and processed it');
select is((select count(*)::int from public.recovery_cases where membership_id = 'mem_hot_a' and status = 'open'), 1,
  'the failure opened a case');
select is((select count(*)::int from public.job_queue j join public.recovery_cases rc on rc.id = j.case_id
           where rc.membership_id = 'mem_hot_a' and j.status = 'pending'), 7, 'with its nudges and the incentive');

-- A redelivery: answered as a duplicate, nothing written, not even a counter.
insert into marks values ('before duplicate', pg_temp.updates_of_events());
select is(pg_temp.ingest('msg_hot_1', 'payment.failed', 'mem_hot_a'),
  jsonb_build_object('status', 'duplicate', 'id', 'msg_hot_1', 'processed', false), 'a redelivery is a duplicate');
select is((select count(*)::int from public.webhook_counters), 0,
  'a duplicate writes no counter row (the function counts it in memory)');
select is(pg_temp.updates_of_events() - (select n from marks where at = 'before duplicate'), 0::bigint,
  'and updates no event');
select is((select name_ciphertext from public.members where company_id = 'biz_hot_rows' and user_id = 'user_mem_hot_a'),
  'first', 'a duplicate does not touch the member');

-- The batched count: one upsert of the current minute's row, adding up; nothing for zero.
select private.record_webhook_duplicates(3);
select private.record_webhook_duplicates(2);
select private.record_webhook_duplicates(0);
select is((select count from public.webhook_counters where kind = 'duplicate' and reason = ''
           and minute = date_trunc('minute', now())), 5::bigint, 'batched duplicate counts add up in the current minute');
select is((select count(*)::int from public.webhook_counters), 1, 'in one row');
select is((select duplicates from public.ops_webhook_figures(now() - interval '1 hour')), 5,
  'ops figures read them as duplicates');

-- Processing off: stored unprocessed; a later processed event of the membership marks it.
select is(pg_temp.ingest('msg_hot_2', 'payment.failed', 'mem_hot_b', false) ->> 'processed', 'false',
  'with processing off the event is stored, not processed');
select ok((select processed_at is null from public.events where id = 'msg_hot_2'), '... and left for later');
select pg_temp.ingest('msg_hot_3', 'payment.succeeded', 'mem_hot_b');
select is((select count(*)::int from public.events where membership_id = 'mem_hot_b' and processed_at is null), 0,
  'the next processed event of the membership marks its older unprocessed ones');

select ok(not has_function_privilege('authenticated', 'private.record_webhook_duplicates(bigint)', 'execute')
          and has_function_privilege('service_role', 'private.record_webhook_duplicates(bigint)', 'execute'),
  'only the service role records duplicate counts');

select * from finish();
rollback;
