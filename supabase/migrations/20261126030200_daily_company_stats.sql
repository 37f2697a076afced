-- Daily rollups of each company's dashboard figures (non-PII), kept after retention purges.
-- One row per company and calendar day in the company's time zone. Every figure is dated by when it
-- happened: cases by opening and by closing, nudges by sending, clicks by the first human click on
-- a step's link, recoveries by closing. So a finished day's row does not change afterwards, except
-- through late events, which the hourly refresh absorbs by recomputing the last few days.
--
-- The Overview reads finished days from here and computes the days after the company's
-- `daily_stats_watermarks.through` live with the same function, so both agree by construction.

create table public.daily_company_stats (
  company_id text not null references public.companies (company_id) on delete cascade,
  day date not null,
  cases_opened integer not null default 0,
  cases_recovered integer not null default 0,
  cases_lost integer not null default 0,
  cases_expired integer not null default 0,
  cases_dismissed integer not null default 0,
  recovered_click_through integer not null default 0,
  recovered_nudged integer not null default 0,
  recovered_organic integer not null default 0,
  -- {"usd": {"cases": 2, "minor": "3499"}}: recovered money per currency (minor units as text,
  -- since sums may pass JavaScript's safe integers).
  recovered_revenue jsonb not null default '{}'::jsonb
    constraint daily_company_stats_revenue_object check (jsonb_typeof(recovered_revenue) = 'object'),
  -- {"0": {"sent": 7, "clicked": 1, "recovered": 3}}: the nudge funnel per schedule step.
  funnel jsonb not null default '{}'::jsonb
    constraint daily_company_stats_funnel_object check (jsonb_typeof(funnel) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (company_id, day)
);

create trigger daily_company_stats_set_updated_at before update on public.daily_company_stats
  for each row execute function private.set_updated_at();

select private.apply_tenant_rls('public.daily_company_stats');

revoke all on public.daily_company_stats from public, anon, authenticated;
grant select on public.daily_company_stats to authenticated;
grant all on public.daily_company_stats to service_role;

-- How far each company's rollups reach: the last local day written. A table of its own rather than a
-- column of `companies`, whose row every webhook upserts: the refresh's lock on it would hold up ingest.
create table public.daily_stats_watermarks (
  company_id text primary key references public.companies (company_id) on delete cascade,
  through date not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger daily_stats_watermarks_set_updated_at before update on public.daily_stats_watermarks
  for each row execute function private.set_updated_at();

select private.apply_tenant_rls('public.daily_stats_watermarks');

revoke all on public.daily_stats_watermarks from public, anon, authenticated;
grant select on public.daily_stats_watermarks to authenticated;
grant all on public.daily_stats_watermarks to service_role;

-- The figures of [p_from, p_to) per local day of the company, from live rows. Security invoker:
-- the dashboard calls it as `authenticated`, so RLS applies; the refresh calls it as the owner.
-- Dynamic SQL so that each call is planned for its own window (a day, or years for a backfill).
create or replace function public.compute_daily_company_stats(p_company_id text, p_from timestamptz, p_to timestamptz)
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
  funnel jsonb
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
    ), days as (
      select opened.day from opened union select outcomes.day from outcomes union select funnel.day from funnel
    )
    select d.day, coalesce(op.n, 0), coalesce(o.recovered, 0), coalesce(o.lost, 0), coalesce(o.expired, 0),
           coalesce(o.dismissed, 0), coalesce(o.click_through, 0), coalesce(o.nudged, 0), coalesce(o.organic, 0),
           coalesce(rv.money, '{}'::jsonb), coalesce(f.steps, '{}'::jsonb)
    from days d
    left join opened op on op.day = d.day
    left join outcomes o on o.day = d.day
    left join revenue rv on rv.day = d.day
    left join funnel f on f.day = d.day
    order by d.day
  $q$ using p_company_id, p_from, p_to, tz;
end
$$;

revoke execute on function public.compute_daily_company_stats(text, timestamptz, timestamptz) from public, anon;
grant execute on function public.compute_daily_company_stats(text, timestamptz, timestamptz)
  to authenticated, service_role;

-- (Re)writes the rollups of one company, or of every company: all days up to yesterday (local) on
-- the first run, afterwards the last `lookback_days` finished days, which absorbs late webhooks.
-- Returns the number of day rows written. Runs hourly; retention calls it before purging.
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
        recovered_click_through, recovered_nudged, recovered_organic, recovered_revenue, funnel)
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

select cron.schedule('churn-saver-daily-stats', '7 * * * *', 'select private.refresh_daily_stats()');
