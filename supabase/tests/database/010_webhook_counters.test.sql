-- Webhook delivery counters (ops health, metrics and alerts): a redelivery is counted as a duplicate,
-- a rejection per reason in the current minute (as well as in the daily webhook_rejections), old
-- minutes are trimmed, and only the service role reaches the table.
begin;
select plan(8);

delete from public.webhook_counters;
insert into public.companies (company_id) values ('biz_ops_counters');

select public.ingest_webhook_event(jsonb_build_object('id', 'msg_ops_dup', 'company_id', 'biz_ops_counters',
  'type', 'payment.succeeded', 'raw_type', 'payment.succeeded', 'api_version', 'v1', 'occurred_at', now()), false);
select is((select count(*)::int from public.webhook_counters), 0, 'a first delivery is not a duplicate');

select is(public.ingest_webhook_event(jsonb_build_object('id', 'msg_ops_dup', 'company_id', 'biz_ops_counters',
  'type', 'payment.succeeded', 'raw_type', 'payment.succeeded', 'api_version', 'v1', 'occurred_at', now()), false) ->> 'status',
  'duplicate', 'a redelivery is still answered as a duplicate');
-- The function counts the duplicates it answered and writes them in batches (022_ingest_hot_rows).
select private.record_webhook_duplicates(2);
select is((select count from public.webhook_counters where kind = 'duplicate' and minute = date_trunc('minute', now())),
  2::bigint, 'redeliveries are counted as duplicates in the current minute');

create temp table daily_before as
  select coalesce((select count from public.webhook_rejections where day = current_date and reason = 'malformed_json'), 0) as n;
select private.record_webhook_rejection('bad_signature');
select private.record_webhook_rejection('bad_signature');
select private.record_webhook_rejection('malformed_json');
select is((select count from public.webhook_counters where kind = 'rejected' and reason = 'bad_signature'), 2::bigint,
  'rejections are counted per reason');
select is((select count from public.webhook_rejections where day = current_date and reason = 'malformed_json'),
  (select n + 1 from daily_before), 'the daily rejection count still grows');

insert into public.webhook_counters (minute, kind, reason, count)
values (date_trunc('minute', now() - interval '8 days'), 'rejected', 'bad_signature', 5);
select is(private.trim_webhook_counters(), 1::bigint, 'minutes older than 7 days are trimmed');
select isnt_empty($$select 1 from cron.job where jobname = 'churn-saver-trim-webhook-counters'$$,
  'pg_cron trims them every hour');

set local role authenticated;
select throws_ok('select count(*) from public.webhook_counters', '42501', null, 'creators cannot read the counters');

select * from finish();
rollback;
