-- Daily rollups: what private.refresh_daily_stats writes, per local day of the company, how the
-- watermark moves, that a second run changes nothing, and that the live function respects RLS.
begin;
select plan(14);

insert into public.companies (company_id) values ('biz_stats_a'), ('biz_stats_b');
-- UTC-10: a case opened at 05:00 UTC today belongs to yesterday there.
insert into public.company_settings (company_id, time_zone) values ('biz_stats_a', 'Pacific/Honolulu');

create temp table t (name text primary key, at timestamptz);
insert into t values
  ('today', date_trunc('day', now() at time zone 'Pacific/Honolulu') at time zone 'Pacific/Honolulu'),
  ('d3', (date_trunc('day', now() at time zone 'Pacific/Honolulu') - interval '3 days' + interval '12 hours')
           at time zone 'Pacific/Honolulu'),
  ('d2', (date_trunc('day', now() at time zone 'Pacific/Honolulu') - interval '2 days' + interval '12 hours')
           at time zone 'Pacific/Honolulu');

insert into public.recovery_cases (id, company_id, membership_id, reason, status, opened_at, closed_at, attribution,
                                   recovered_amount_minor, currency)
values
  ('00000000-0000-4000-8000-0000000000a1', 'biz_stats_a', 'mem_1', 'payment_failed', 'recovered',
   (select at from t where name = 'd3'), (select at from t where name = 'd2'), 'click_through', 2999, 'usd'),
  ('00000000-0000-4000-8000-0000000000a2', 'biz_stats_a', 'mem_2', 'payment_failed', 'lost',
   (select at from t where name = 'd3'), (select at from t where name = 'd2'), null, null, 'usd'),
  ('00000000-0000-4000-8000-0000000000a3', 'biz_stats_a', 'mem_3', 'payment_failed', 'open',
   (select at from t where name = 'today') + interval '1 minute', null, null, null, null),
  ('00000000-0000-4000-8000-0000000000b1', 'biz_stats_b', 'mem_1', 'payment_failed', 'open',
   (select at from t where name = 'd3'), null, null, null, null);
insert into public.job_queue (case_id, company_id, channel, step, status, scheduled_for, sent_at)
values ('00000000-0000-4000-8000-0000000000a1', 'biz_stats_a', 'push', 0, 'sent', (select at from t where name = 'd3'),
        (select at from t where name = 'd3')),
       ('00000000-0000-4000-8000-0000000000a1', 'biz_stats_a', 'incentive', 0, 'sent',
        (select at from t where name = 'd3'), (select at from t where name = 'd3'));
insert into public.link_clicks (company_id, case_id, job_id, clicked_at, is_bot)
select 'biz_stats_a', case_id, id, (select at from t where name = 'd3') + interval '1 hour', false
from public.job_queue where company_id = 'biz_stats_a' and channel = 'push';

select is(private.refresh_daily_stats('biz_stats_a'), 2, 'the first refresh writes one row per day with activity');
select is((select through from public.daily_stats_watermarks where company_id = 'biz_stats_a'),
          (now() at time zone 'Pacific/Honolulu')::date - 1, 'the watermark is yesterday in the company''s zone');
select is((select cases_opened from public.daily_company_stats where company_id = 'biz_stats_a'
           and day = (now() at time zone 'Pacific/Honolulu')::date - 3), 2, 'cases count on their local opening day');
select is((select (cases_recovered, cases_lost, recovered_click_through)::text from public.daily_company_stats
           where company_id = 'biz_stats_a' and day = (now() at time zone 'Pacific/Honolulu')::date - 2),
          '(1,1,1)', 'outcomes and attribution count on the closing day');
select is((select recovered_revenue from public.daily_company_stats where company_id = 'biz_stats_a'
           and day = (now() at time zone 'Pacific/Honolulu')::date - 2),
          '{"usd": {"cases": 1, "minor": "2999"}}'::jsonb, 'recovered revenue per currency, minor units as text');
select is((select funnel from public.daily_company_stats where company_id = 'biz_stats_a'
           and day = (now() at time zone 'Pacific/Honolulu')::date - 3),
          '{"0": {"sent": 1, "clicked": 1, "recovered": 0}}'::jsonb,
          'the funnel counts the push (not the incentive) and the click on their own day');
select is((select funnel -> '0' ->> 'recovered' from public.daily_company_stats where company_id = 'biz_stats_a'
           and day = (now() at time zone 'Pacific/Honolulu')::date - 2), '1',
          '... and the recovery after step 0 on its closing day');
select is((select count(*)::int from public.daily_company_stats
           where company_id = 'biz_stats_a' and day >= (now() at time zone 'Pacific/Honolulu')::date), 0,
          'today is never rolled up: it is still changing');

create temp table before as select * from public.daily_company_stats where company_id = 'biz_stats_a';
select private.refresh_daily_stats('biz_stats_a');
select is((select count(*)::int from (select company_id, day, cases_opened, funnel, recovered_revenue from before
           except select company_id, day, cases_opened, funnel, recovered_revenue from public.daily_company_stats
           where company_id = 'biz_stats_a') d), 0, 'a second refresh writes the same rows');

-- A late event inside the lookback is absorbed; one older than the lookback is not (documented).
update public.recovery_cases set opened_at = (select at from t where name = 'd2')
where id = '00000000-0000-4000-8000-0000000000a2';
select private.refresh_daily_stats('biz_stats_a', 7);
select is((select cases_opened from public.daily_company_stats where company_id = 'biz_stats_a'
           and day = (now() at time zone 'Pacific/Honolulu')::date - 2), 1, 'a late change within the lookback is absorbed');

select private.refresh_daily_stats();
select is((select through from public.daily_stats_watermarks where company_id = 'biz_stats_b'),
          (now() at time zone 'UTC')::date - 1, 'without a company, every company is refreshed (UTC by default)');
select throws_ok($$select private.refresh_daily_stats(null, 0)$$, '22023', null, 'a lookback below one day is refused');

-- The live function runs with the caller's rights: another company's rows stay invisible.
set local role authenticated;
select set_config('request.jwt.claims', '{"role": "authenticated", "company_id": "biz_stats_b"}', true);
select is((select count(*)::int from public.compute_daily_company_stats('biz_stats_a', '-infinity', 'infinity')), 0,
          'company B computes nothing from company A''s rows');
select is((select count(*)::int from public.daily_company_stats where company_id = 'biz_stats_a'), 0,
          '... and reads none of its rollups');
reset role;

select * from finish();
rollback;
