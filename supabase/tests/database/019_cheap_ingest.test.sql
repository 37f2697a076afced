-- Cheap ingest (issue 12, issue 11 item 4's load): the time-zone check still refuses what it refused
-- and accepts what it accepted, without reading the zone files for a known name; an event of a known
-- company writes nothing to companies or company_settings; rejections are counted in batches.
begin;
select plan(18);

-- The check's answers: zone names in, everything else out (also what `at time zone` would accept).
select ok(private.is_valid_time_zone('UTC'), 'UTC is valid');
select ok(private.is_valid_time_zone('America/New_York'), 'a region/city name is valid');
select ok(private.is_valid_time_zone('Etc/GMT+5'), 'an Etc zone is valid');
select ok(not private.is_valid_time_zone('Mars/Olympus'), 'an unknown name is refused');
select ok(not private.is_valid_time_zone('pst'), 'an abbreviation is refused, although `at time zone` takes it');
select ok(not private.is_valid_time_zone('UTC+5'), 'a POSIX offset string is refused');
select ok(not private.is_valid_time_zone(null), 'null is refused');
select is(
  (select count(*)::int from pg_catalog.pg_timezone_names n
   where private.is_valid_time_zone(n.name) is distinct from true),
  0, 'every name Postgres knows is valid');

insert into public.companies (company_id) values ('biz_cheap_tz');
select throws_ok(
  $$insert into public.company_settings (company_id, time_zone) values ('biz_cheap_tz', 'Mars/Olympus')$$,
  '23514', null, 'the settings constraint still refuses an unknown zone on insert');
insert into public.company_settings (company_id, time_zone) values ('biz_cheap_tz', 'Europe/Berlin');
select throws_ok(
  $$update public.company_settings set time_zone = 'XYZ3' where company_id = 'biz_cheap_tz'$$,
  '23514', null, 'and on update');

-- Cheap: 2,000 checks of a known name cost less than 20 scans of pg_timezone_names (the old check
-- was one scan per call, so this ratio is about 100 times away from both designs).
create temp table timing (what text primary key, ms double precision);
do $$
declare
  started timestamptz;
  ok boolean;
begin
  started := clock_timestamp();
  for i in 1..2000 loop
    ok := private.is_valid_time_zone('America/New_York');
  end loop;
  insert into timing values ('checks', extract(epoch from clock_timestamp() - started) * 1000);
  started := clock_timestamp();
  for i in 1..20 loop
    ok := exists (select 1 from pg_catalog.pg_timezone_names where name = 'America/New_York');
  end loop;
  insert into timing values ('scans', extract(epoch from clock_timestamp() - started) * 1000);
end
$$;
select cmp_ok((select ms from timing where what = 'checks'), '<', (select ms from timing where what = 'scans'),
  '2,000 checks of a known zone cost less than 20 scans of the zone files');

-- An event of a company that exists inserts nothing into companies or company_settings, so no
-- CHECK of theirs runs (an `on conflict do nothing` insert evaluates them before it finds the row).
-- Counted with the function statistics of this transaction.
set local track_functions = 'all';
create temp table tz_calls (at text primary key, n bigint);
create function pg_temp.tz_checks() returns bigint language sql as
  $$ select coalesce(pg_stat_get_xact_function_calls('private.is_valid_time_zone(text)'::regprocedure), 0) $$;
insert into public.companies (company_id, title) values ('biz_cheap_known', 'Known');
insert into public.company_settings (company_id) values ('biz_cheap_known');
insert into tz_calls values ('before known', pg_temp.tz_checks());
select is(public.ingest_webhook_event(jsonb_build_object('id', 'msg_cheap_1', 'company_id', 'biz_cheap_known',
  'company_title', 'Known', 'type', 'payment.succeeded', 'raw_type', 'payment.succeeded', 'api_version', 'v1',
  'occurred_at', now()), false) ->> 'status', 'stored', 'the event is stored');
select is(pg_temp.tz_checks() - (select n from tz_calls where at = 'before known'), 0::bigint,
  'an event of a known company runs no time-zone check');

-- A company seen for the first time is still provisioned, with its title and default settings.
insert into tz_calls values ('before new', pg_temp.tz_checks());
select public.ingest_webhook_event(jsonb_build_object('id', 'msg_cheap_2', 'company_id', 'biz_cheap_new',
  'company_title', 'New Co', 'type', 'payment.succeeded', 'raw_type', 'payment.succeeded', 'api_version', 'v1',
  'occurred_at', now()), false);
select cmp_ok(pg_temp.tz_checks() - (select n from tz_calls where at = 'before new'), '>=', 1::bigint,
  'a new company''s settings row is checked (the count above can see a check)');
select is((select c.title || '/' || s.time_zone from public.companies c
           join public.company_settings s using (company_id) where c.company_id = 'biz_cheap_new'),
  'New Co/UTC', 'a new company gets its row, its title and default settings');
-- A known company without a title gets it from a later event, as before.
insert into public.companies (company_id) values ('biz_cheap_untitled');
select public.ingest_webhook_event(jsonb_build_object('id', 'msg_cheap_3', 'company_id', 'biz_cheap_untitled',
  'company_title', 'Late Title', 'type', 'payment.succeeded', 'raw_type', 'payment.succeeded', 'api_version', 'v1',
  'occurred_at', now()), false);
select is((select title from public.companies where company_id = 'biz_cheap_untitled') || '/' ||
          (select count(*)::text from public.company_settings where company_id = 'biz_cheap_untitled'),
  'Late Title/1', 'a known company without title or settings gets both');

-- Rejections in batches: one call adds every reason's count, to the minute and the day.
delete from public.webhook_counters where kind = 'rejected';
create temp table daily_before as
  select coalesce((select count from public.webhook_rejections where day = current_date and reason = 'bad_signature'), 0) as n;
select private.record_webhook_rejections('{"bad_signature": 1200, "missing_signature": 7, "malformed_json": 0}');
select private.record_webhook_rejections('{"bad_signature": 3}');
select is(
  (select jsonb_object_agg(reason, count) from public.webhook_counters where kind = 'rejected'),
  '{"bad_signature": 1203, "missing_signature": 7}'::jsonb,
  'batched counts add up per reason and minute; a zero count writes no row');
select is((select count from public.webhook_rejections where day = current_date and reason = 'bad_signature'),
  (select n + 1203 from daily_before), 'and per day');

select * from finish();
rollback;
