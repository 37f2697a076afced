-- The Overview's breakdowns in the daily rollups (20261208010000_overview_breakdowns.sql): money of
-- settled cases, outcomes by reason and by the latest failure message, nudges by channel, and the
-- funnel keyed by the day each nudge was due after opening, which a schedule change does not rewrite.
begin;
select plan(9);

insert into public.companies (company_id) values ('biz_ovb');
insert into public.company_settings (company_id, time_zone, send_hour, nudge_offsets_days)
values ('biz_ovb', 'Europe/Paris', 10, '{0,2,4}');

create temp table t (name text primary key, at timestamptz);
insert into t values
  ('opened', ((now() at time zone 'Europe/Paris')::date - 6 + time '08:00') at time zone 'Europe/Paris'),
  ('closed', ((now() at time zone 'Europe/Paris')::date - 2 + time '18:00') at time zone 'Europe/Paris');

insert into public.recovery_cases (id, company_id, membership_id, reason, status, opened_at, closed_at, attribution,
                                   amount_at_risk_minor, recovered_amount_minor, currency)
select v.id::uuid, 'biz_ovb', v.mem, v.reason, v.status, (select at from t where name = 'opened'),
       (select at from t where name = 'closed'), v.attribution, v.at_risk, v.recovered, v.currency
from (values
  ('00000000-0000-4000-8000-0000000027a1', 'mem_1', 'payment_failed', 'recovered', 'nudged', 3000, 2500, 'usd'),
  ('00000000-0000-4000-8000-0000000027a2', 'mem_2', 'payment_failed', 'lost', null, 1000, null, 'usd'),
  ('00000000-0000-4000-8000-0000000027a3', 'mem_3', 'cancel_scheduled', 'expired', null, null, null, null),
  ('00000000-0000-4000-8000-0000000027a4', 'mem_4', 'payment_failed', 'dismissed', null, 900, null, 'usd')
) v(id, mem, reason, status, attribution, at_risk, recovered, currency);

-- mem_1 failed twice: the latest message counts. mem_2's events say nothing.
insert into public.events (id, company_id, type, raw_type, api_version, membership_id, occurred_at, failure_message)
values ('msg_ovb_1', 'biz_ovb', 'payment.failed', 'payment.failed', 'v1', 'mem_1',
        (select at from t where name = 'opened'), 'Processing error.'),
       ('msg_ovb_2', 'biz_ovb', 'payment.failed', 'payment.failed', 'v1', 'mem_1',
        (select at from t where name = 'opened') + interval '1 hour', 'Your card was declined.');

-- mem_1's nudges: day 0 (push) and day 2 (DM), both sent before it recovered.
insert into public.job_queue (case_id, company_id, channel, step, status, scheduled_for, sent_at)
select '00000000-0000-4000-8000-0000000027a1', 'biz_ovb', v.channel, v.step, 'sent', d.due, d.due + interval '1 minute'
from (values ('push', 0, 0), ('dm', 1, 2)) v(channel, step, offset_days)
cross join lateral (select private.nudge_due_at((select at from t where name = 'opened'), v.offset_days, 10,
                                                'Europe/Paris') as due) d;

-- The schedule changes afterwards: what was written stays labelled with the days nudges had.
update public.company_settings set nudge_offsets_days = '{0,3,6}' where company_id = 'biz_ovb';
select ok(private.refresh_daily_stats('biz_ovb') >= 2, 'the refresh writes the days with activity');

create temp view closed_day as
  select * from public.daily_company_stats
  where company_id = 'biz_ovb' and day = (now() at time zone 'Europe/Paris')::date - 2;

select is((select settled_money from closed_day),
          '{"usd": {"cases": 2, "at_risk": "4000", "recovered": "2500"}}'::jsonb,
          'money of settled cases with an amount: at risk of all, recovered of the recovered (dismissed left out)');
select is((select by_reason from closed_day),
          '{"payment_failed": {"settled": 2, "recovered": 1}, "cancel_scheduled": {"settled": 1, "recovered": 0}}'::jsonb,
          'outcomes by reason');
select is((select by_failure_message from closed_day),
          '{"Your card was declined.": {"settled": 1, "recovered": 1}, "": {"settled": 1, "recovered": 0}}'::jsonb,
          'payment cases by their latest failure message, "" when none was recorded; cancellations not in it');
select is((select nudge_funnel from public.daily_company_stats
           where company_id = 'biz_ovb' and day = (now() at time zone 'Europe/Paris')::date - 6),
          '{"0:0": {"sent": 1, "clicked": 0, "recovered": 0}}'::jsonb, 'the first nudge on its sending day, day 0');
select is((select nudge_funnel from closed_day),
          '{"0:0": {"sent": 0, "clicked": 0, "recovered": 1}, "1:2": {"sent": 0, "clicked": 0, "recovered": 1}}'::jsonb,
          'the second nudge keeps day 2 after the schedule moved it to day 3');
select is((select by_channel from closed_day),
          '{"push": {"sent": 0, "clicked": 0, "recovered": 1}, "dm": {"sent": 0, "clicked": 0, "recovered": 1}}'::jsonb,
          'recoveries after each channel, on the closing day');
select is((select funnel from closed_day),
          '{"0": {"sent": 0, "clicked": 0, "recovered": 1}, "1": {"sent": 0, "clicked": 0, "recovered": 1}}'::jsonb,
          'the per-step funnel is written as before');

-- The live function, as the dashboard calls it, with another company's claims: nothing.
set local role authenticated;
select set_config('request.jwt.claims', '{"role": "authenticated", "company_id": "biz_other"}', true);
select is((select count(*)::int from public.compute_daily_company_stats('biz_ovb', '-infinity', 'infinity')), 0,
          'another company computes nothing from these rows');
reset role;

select * from finish();
rollback;
