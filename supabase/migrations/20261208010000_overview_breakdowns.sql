-- The Overview's "is it working?" figures in the daily rollups (issue 13): money at risk and recovered
-- of settled cases (recovery rate by amount), outcomes by case reason and by Whop's failure message,
-- the nudges by channel, and the funnel keyed by the step *and the day after opening it actually had*
-- (a schedule change no longer relabels old nudges with the new days).
--
-- Supersedes public.compute_daily_company_stats (20261126030200_daily_company_stats.sql): dropped and
-- created again, since its result gains columns; grants as before. Supersedes
-- private.refresh_daily_stats (same migration) with `create or replace`: it writes the new columns.
--
-- Definitions (all non-PII; each dated like the existing figures):
-- * settled_money {"usd": {"cases": 2, "at_risk": "5999", "recovered": "2999"}}: cases closed that day
--   as recovered, lost or expired (dismissed ones are not outcomes) that carry an amount at risk; the
--   amount at risk of all of them and the recovered amount of the recovered ones, minor units as text.
-- * by_reason {"payment_failed": {"settled": 2, "recovered": 1}}: the same cases by recovery_cases.reason.
-- * by_failure_message {"Your card was declined.": {...}}: the payment cases among them (reasons
--   payment_failed, action_required) by the failure message of the latest failure event between the
--   case's opening and closing; "" when none is recorded (events are purged 30 days after receipt).
--   Whop's failure message is stored in the clear on events (20261203000100_event_churn_fields.sql:
--   Whop's texts, not member data), so it is grouped as it is; the member's own cancellation reason,
--   which is PII and encrypted, is not used.
-- * nudge_funnel {"1:2": {"sent": 3, "clicked": 1, "recovered": 2}}: like `funnel` (kept as it was), keyed
--   "<step>:<day>" where day = the job's local scheduled day minus the case's local opening day.
-- * by_channel {"push": {...}}: the same three figures by channel (push, dm).
-- New columns are null on rows written before this migration; it fills them from the live rows still
-- there (a day whose cases were already purged keeps null, which the Overview shows as not recorded).

alter table public.daily_company_stats
  add column settled_money jsonb
    constraint daily_company_stats_settled_money_object check (jsonb_typeof(settled_money) = 'object'),
  add column by_reason jsonb
    constraint daily_company_stats_by_reason_object check (jsonb_typeof(by_reason) = 'object'),
  add column by_failure_message jsonb
    constraint daily_company_stats_by_failure_message_object check (jsonb_typeof(by_failure_message) = 'object'),
  add column nudge_funnel jsonb
    constraint daily_company_stats_nudge_funnel_object check (jsonb_typeof(nudge_funnel) = 'object'),
  add column by_channel jsonb
    constraint daily_company_stats_by_channel_object check (jsonb_typeof(by_channel) = 'object');

drop function public.compute_daily_company_stats(text, timestamptz, timestamptz);

-- The figures of [p_from, p_to) per local day of the company, from live rows. Security invoker:
-- the dashboard calls it as `authenticated`, so RLS applies; the refresh calls it as the owner.
-- Dynamic SQL so that each call is planned for its own window (a day, or years for a backfill).
create function public.compute_daily_company_stats(p_company_id text, p_from timestamptz, p_to timestamptz)
returns table (
  day date,
  cases_opened integer,
  cases_recovered integer,
  cases_lost integer,
  cases_expired integer,
  cases_dismissed integer,
  recovered_click_through integer,
  recovered_nudged integer,
  recovered_organic integer,
  recovered_revenue jsonb,
  funnel jsonb,
  settled_money jsonb,
  by_reason jsonb,
  by_failure_message jsonb,
  nudge_funnel jsonb,
  by_channel jsonb
)
language plpgsql
stable
set search_path = ''
as $$
declare
  tz text := coalesce(
    (select s.time_zone from public.company_settings s where s.company_id = p_company_id), 'UTC');
begin
  return query execute $q$
    with opened as (
      select (c.opened_at at time zone $4)::date as day, count(*)::int as n
      from public.recovery_cases c
      where c.company_id = $1 and c.opened_at >= $2 and c.opened_at < $3
      group by 1
    ), closed as (
      select (c.closed_at at time zone $4)::date as day, c.status, c.attribution, c.currency,
             count(*)::int as n, sum(c.recovered_amount_minor) as minor
      from public.recovery_cases c
      where c.company_id = $1 and c.closed_at is not null and c.closed_at >= $2 and c.closed_at < $3
      group by 1, 2, 3, 4
    ), outcomes as (
      select o.day,
             sum(o.n) filter (where o.status = 'recovered')::int as recovered,
             sum(o.n) filter (where o.status = 'lost')::int as lost,
             sum(o.n) filter (where o.status = 'expired')::int as expired,
             sum(o.n) filter (where o.status = 'dismissed')::int as dismissed,
             sum(o.n) filter (where o.attribution = 'click_through')::int as click_through,
             sum(o.n) filter (where o.attribution = 'nudged')::int as nudged,
             sum(o.n) filter (where o.attribution = 'organic')::int as organic
      from closed o
      group by o.day
    ), revenue as (
      select r.day, jsonb_object_agg(r.currency, jsonb_build_object('cases', r.n, 'minor', r.minor::text)) as money
      from (
        select o.day, o.currency, sum(o.n)::int as n, sum(o.minor) as minor
        from closed o
        where o.status = 'recovered' and o.currency is not null and o.minor is not null
        group by 1, 2
      ) r
      group by r.day
    ), settled as (
      -- Cases with an outcome (dismissed ones have none), one row each, for the breakdowns.
      select (c.closed_at at time zone $4)::date as day, c.id, c.status, c.reason, c.currency,
             c.amount_at_risk_minor, c.recovered_amount_minor, c.membership_id, c.opened_at, c.closed_at
      from public.recovery_cases c
      where c.company_id = $1 and c.status in ('recovered', 'lost', 'expired')
        and c.closed_at >= $2 and c.closed_at < $3
    ), settled_money as (
      select m.day, jsonb_object_agg(m.currency, jsonb_build_object(
               'cases', m.n, 'at_risk', m.at_risk::text, 'recovered', m.recovered::text)) as money
      from (
        select s.day, s.currency, count(*)::int as n, sum(s.amount_at_risk_minor) as at_risk,
               coalesce(sum(s.recovered_amount_minor) filter (where s.status = 'recovered'), 0) as recovered
        from settled s
        where s.currency is not null and s.amount_at_risk_minor is not null
        group by 1, 2
      ) m
      group by m.day
    ), settled_keys as (
      -- Each settled case under its reason, and a payment case also under its failure message.
      select s.day, k.dim, k.key, s.status
      from settled s
      left join lateral (
        select (array_agg(e.failure_message order by e.occurred_at desc, e.id desc)
                  filter (where e.failure_message is not null))[1] as message
        from public.events e
        where s.reason in ('payment_failed', 'action_required')
          and e.company_id = $1 and e.membership_id = s.membership_id
          and e.type in ('payment.failed', 'payment.requires_action')
          and e.occurred_at >= s.opened_at and e.occurred_at <= s.closed_at
      ) why on true
      cross join lateral (
        values ('reason', s.reason), ('message', case when s.reason in ('payment_failed', 'action_required')
                                                      then coalesce(why.message, '') end)
      ) k(dim, key)
      where k.key is not null
    ), settled_groups as (
      select g.day,
             jsonb_object_agg(g.key, jsonb_build_object('settled', g.n, 'recovered', g.recovered))
               filter (where g.dim = 'reason') as by_reason,
             jsonb_object_agg(g.key, jsonb_build_object('settled', g.n, 'recovered', g.recovered))
               filter (where g.dim = 'message') as by_message
      from (
        select k.day, k.dim, k.key, count(*)::int as n, (count(*) filter (where k.status = 'recovered'))::int as recovered
        from settled_keys k
        group by 1, 2, 3
      ) g
      group by g.day
    ), sent as (
      -- Scheduled push and DM nudges only: not the free-days incentive, not manual nudges.
      select (j.sent_at at time zone $4)::date as day, j.step, count(*)::int as n
      from public.job_queue j
      where j.company_id = $1 and j.status = 'sent' and j.origin = 'schedule' and j.channel in ('push', 'dm')
        and j.sent_at >= $2 and j.sent_at < $3
      group by 1, 2
    ), clicked as (
      -- A case counts once per step, on the day of its first human click on that step's links.
      select (f.first_click at time zone $4)::date as day, f.step, count(*)::int as n
      from (
        select k.case_id, j.step, min(k.clicked_at) as first_click
        from public.link_clicks k
        join public.job_queue j on j.id = k.job_id
        where k.company_id = $1 and not k.is_bot and k.clicked_at >= $2 and k.clicked_at < $3
          and j.origin = 'schedule' and j.channel in ('push', 'dm')
        group by 1, 2
      ) f
      where not exists (
        select 1
        from public.link_clicks e
        join public.job_queue ej on ej.id = e.job_id
        where e.case_id = f.case_id and e.company_id = $1 and not e.is_bot and e.clicked_at < $2
          and ej.step = f.step and ej.origin = 'schedule' and ej.channel in ('push', 'dm')
      )
      group by 1, 2
    ), recovered_after as (
      -- A recovered case counts for every step whose nudge had gone out by the time it recovered.
      select (c.closed_at at time zone $4)::date as day, s.step, count(*)::int as n
      from public.recovery_cases c
      cross join lateral (
        select distinct j.step
        from public.job_queue j
        where j.case_id = c.id and j.company_id = $1 and j.status = 'sent' and j.origin = 'schedule'
          and j.channel in ('push', 'dm') and j.sent_at <= c.closed_at
      ) s
      where c.company_id = $1 and c.status = 'recovered' and c.closed_at >= $2 and c.closed_at < $3
      group by 1, 2
    ), funnel as (
      select coalesce(s.day, k.day, r.day) as day,
             jsonb_object_agg(coalesce(s.step, k.step, r.step)::text, jsonb_build_object(
               'sent', coalesce(s.n, 0), 'clicked', coalesce(k.n, 0), 'recovered', coalesce(r.n, 0))) as steps
      from sent s
      full join clicked k on k.day = s.day and k.step = s.step
      full join recovered_after r on r.day = coalesce(s.day, k.day) and r.step = coalesce(s.step, k.step)
      group by 1
    ),
    -- The same three figures under two keys per nudge: "<step>:<day it had>" and its channel. The day
    -- is the job's local scheduled day minus the case's local opening day (nudge_due_at's inverse).
    nudge_sent as (
      select (j.sent_at at time zone $4)::date as day, d.dim, d.key, count(*)::int as n
      from public.job_queue j
      join public.recovery_cases c on c.id = j.case_id
      cross join lateral (values
        ('funnel', j.step || ':' || ((j.scheduled_for at time zone $4)::date - (c.opened_at at time zone $4)::date)),
        ('channel', j.channel)) d(dim, key)
      where j.company_id = $1 and j.status = 'sent' and j.origin = 'schedule' and j.channel in ('push', 'dm')
        and j.sent_at >= $2 and j.sent_at < $3
      group by 1, 2, 3
    ), nudge_clicked as (
      select (f.first_click at time zone $4)::date as day, f.dim, f.key, count(*)::int as n
      from (
        select k.case_id, d.dim, d.key, min(k.clicked_at) as first_click
        from public.link_clicks k
        join public.job_queue j on j.id = k.job_id
        join public.recovery_cases c on c.id = j.case_id
        cross join lateral (values
          ('funnel', j.step || ':' || ((j.scheduled_for at time zone $4)::date - (c.opened_at at time zone $4)::date)),
          ('channel', j.channel)) d(dim, key)
        where k.company_id = $1 and not k.is_bot and k.clicked_at >= $2 and k.clicked_at < $3
          and j.origin = 'schedule' and j.channel in ('push', 'dm')
        group by 1, 2, 3
      ) f
      where not exists (
        select 1
        from public.link_clicks e
        join public.job_queue ej on ej.id = e.job_id
        join public.recovery_cases ec on ec.id = ej.case_id
        where e.case_id = f.case_id and e.company_id = $1 and not e.is_bot and e.clicked_at < $2
          and ej.origin = 'schedule' and ej.channel in ('push', 'dm')
          and f.key = case f.dim
            when 'funnel' then ej.step || ':' || ((ej.scheduled_for at time zone $4)::date - (ec.opened_at at time zone $4)::date)
            else ej.channel end
      )
      group by 1, 2, 3
    ), nudge_recovered as (
      select (c.closed_at at time zone $4)::date as day, s.dim, s.key, count(*)::int as n
      from public.recovery_cases c
      cross join lateral (
        select distinct d.dim, d.key
        from public.job_queue j
        cross join lateral (values
          ('funnel', j.step || ':' || ((j.scheduled_for at time zone $4)::date - (c.opened_at at time zone $4)::date)),
          ('channel', j.channel)) d(dim, key)
        where j.case_id = c.id and j.company_id = $1 and j.status = 'sent' and j.origin = 'schedule'
          and j.channel in ('push', 'dm') and j.sent_at <= c.closed_at
      ) s
      where c.company_id = $1 and c.status = 'recovered' and c.closed_at >= $2 and c.closed_at < $3
      group by 1, 2, 3
    ), nudge_groups as (
      select g.day,
             jsonb_object_agg(g.key, g.figures) filter (where g.dim = 'funnel') as nudge_funnel,
             jsonb_object_agg(g.key, g.figures) filter (where g.dim = 'channel') as by_channel
      from (
        select coalesce(s.day, k.day, r.day) as day, coalesce(s.dim, k.dim, r.dim) as dim,
               coalesce(s.key, k.key, r.key) as key,
               jsonb_build_object('sent', coalesce(s.n, 0), 'clicked', coalesce(k.n, 0),
                                  'recovered', coalesce(r.n, 0)) as figures
        from nudge_sent s
        full join nudge_clicked k on k.day = s.day and k.dim = s.dim and k.key = s.key
        full join nudge_recovered r on r.day = coalesce(s.day, k.day) and r.dim = coalesce(s.dim, k.dim)
          and r.key = coalesce(s.key, k.key)
      ) g
      group by g.day
    ), days as (
      select opened.day from opened union select outcomes.day from outcomes union select funnel.day from funnel
      union select nudge_groups.day from nudge_groups
    )
    select d.day, coalesce(op.n, 0), coalesce(o.recovered, 0), coalesce(o.lost, 0), coalesce(o.expired, 0),
           coalesce(o.dismissed, 0), coalesce(o.click_through, 0), coalesce(o.nudged, 0), coalesce(o.organic, 0),
           coalesce(rv.money, '{}'::jsonb), coalesce(f.steps, '{}'::jsonb),
           coalesce(sm.money, '{}'::jsonb), coalesce(sg.by_reason, '{}'::jsonb), coalesce(sg.by_message, '{}'::jsonb),
           coalesce(ng.nudge_funnel, '{}'::jsonb), coalesce(ng.by_channel, '{}'::jsonb)
    from days d
    left join opened op on op.day = d.day
    left join outcomes o on o.day = d.day
    left join revenue rv on rv.day = d.day
    left join funnel f on f.day = d.day
    left join settled_money sm on sm.day = d.day
    left join settled_groups sg on sg.day = d.day
    left join nudge_groups ng on ng.day = d.day
    order by d.day
  $q$ using p_company_id, p_from, p_to, tz;
end
$$;

revoke execute on function public.compute_daily_company_stats(text, timestamptz, timestamptz) from public, anon;
grant execute on function public.compute_daily_company_stats(text, timestamptz, timestamptz)
  to authenticated, service_role;

-- As in 20261126030200_daily_company_stats.sql, writing the new columns too.
create or replace function private.refresh_daily_stats(p_company_id text default null, lookback_days integer default 7)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  company record;
  through date;
  from_day date;
  written integer := 0;
  n integer;
begin
  if lookback_days is null or lookback_days < 1 then
    raise exception 'lookback_days must be at least 1' using errcode = '22023';
  end if;
  for company in
    select c.company_id, w.through as rolled_through, coalesce(s.time_zone, 'UTC') as tz
    from public.companies c
    left join public.company_settings s on s.company_id = c.company_id
    left join public.daily_stats_watermarks w on w.company_id = c.company_id
    where p_company_id is null or c.company_id = p_company_id
    order by c.company_id
  loop
    -- Two refreshes of one company at once would both delete and then collide on insert.
    perform pg_advisory_xact_lock(hashtextextended('daily_company_stats:' || company.company_id, 0));
    through := (now() at time zone company.tz)::date - 1;
    if company.rolled_through is not null then
      from_day := least(company.rolled_through + 1, through - lookback_days + 1);
    else
      select (least(
               (select min(c.opened_at) from public.recovery_cases c where c.company_id = company.company_id),
               (select min(j.sent_at) from public.job_queue j where j.company_id = company.company_id),
               (select min(k.clicked_at) from public.link_clicks k where k.company_id = company.company_id)
             ) at time zone company.tz)::date
        into from_day;
      from_day := coalesce(from_day, through + 1);
    end if;

    if from_day <= through then
      delete from public.daily_company_stats d
      where d.company_id = company.company_id and d.day between from_day and through;
      insert into public.daily_company_stats (
        company_id, day, cases_opened, cases_recovered, cases_lost, cases_expired, cases_dismissed,
        recovered_click_through, recovered_nudged, recovered_organic, recovered_revenue, funnel,
        settled_money, by_reason, by_failure_message, nudge_funnel, by_channel)
      select company.company_id, f.*
      from public.compute_daily_company_stats(
        company.company_id,
        from_day::timestamp at time zone company.tz,
        (through + 1)::timestamp at time zone company.tz
      ) f;
      get diagnostics n = row_count;
      written := written + n;
    end if;
    insert into public.daily_stats_watermarks as w (company_id, through)
    values (company.company_id, through)
    on conflict (company_id) do update set through = excluded.through
    where w.through is distinct from excluded.through;
  end loop;
  return written;
end
$$;

revoke execute on function private.refresh_daily_stats(text, integer) from public, anon, authenticated;
grant execute on function private.refresh_daily_stats(text, integer) to service_role;

-- Existing rollups get the new figures from the live rows still there; the old figures stay as written.
update public.daily_company_stats d
set settled_money = f.settled_money, by_reason = f.by_reason, by_failure_message = f.by_failure_message,
    nudge_funnel = f.nudge_funnel, by_channel = f.by_channel
from public.companies c
left join public.company_settings s on s.company_id = c.company_id
cross join lateral public.compute_daily_company_stats(
  c.company_id, '-infinity',
  ((select w.through from public.daily_stats_watermarks w where w.company_id = c.company_id) + 1)::timestamp
    at time zone coalesce(s.time_zone, 'UTC')
) f
where d.company_id = c.company_id and d.day = f.day
  and exists (select 1 from public.daily_company_stats x where x.company_id = c.company_id);
