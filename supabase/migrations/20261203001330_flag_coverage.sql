-- How many companies each rollout flag covers (issue 11: `rollout ramp scheduler 20` did not say
-- it covered 0 of the companies). The count uses the per-company rule claim_due_jobs applies
-- (private.flag_enabled: allow-list or private.company_bucket below the percentage), as the flags
-- are configured, ignoring ROLLBACK_MODE, so that during a rollback it tells what resume brings back.

-- private.flag_enabled's company rule without its ROLLBACK_MODE clause (pgTAP 021 checks that the
-- two agree for every company while ROLLBACK_MODE is off).
create or replace function private.flag_covers(p_name text, p_company_id text) returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce((
    select f.enabled
       and (p_company_id = any (f.company_allowlist) or private.company_bucket(p_company_id) < f.rollout_percent)
    from public.feature_flags f
    where f.name = p_name
  ), false)
$$;

-- One row per flag, and NUDGES: companies both scheduled and notified (their due jobs are sent).
-- listed: covered companies that are on the allow-list (whatever their bucket).
create or replace function public.flag_coverage()
returns table (name text, companies integer, covered integer, listed integer, rollback_mode boolean)
language sql
stable
set search_path = ''
as $$
  with flags (name, position) as (
    values ('WEBHOOK_PROCESSING_ENABLED', 1), ('SCHEDULER_ENABLED', 2), ('NOTIFICATIONS_ENABLED', 3),
           ('ROLLBACK_MODE', 4)
  ), per_company as (
    select fl.name, fl.position, c.company_id, private.flag_covers(fl.name, c.company_id) as covered,
           c.company_id = any (f.company_allowlist) as listed
    from flags fl
    join public.feature_flags f on f.name = fl.name
    cross join public.companies c
  ), nudged as (
    select 'NUDGES'::text as name, 5 as position, s.company_id, s.covered and n.covered as covered,
           s.listed or n.listed as listed
    from per_company s
    join per_company n on n.company_id = s.company_id and n.name = 'NOTIFICATIONS_ENABLED'
    where s.name = 'SCHEDULER_ENABLED'
  ), counted as (
    select p.name, p.position, count(p.company_id)::integer as companies,
           count(*) filter (where p.covered)::integer as covered,
           count(*) filter (where p.covered and p.listed)::integer as listed
    from (select * from per_company union all select * from nudged) p
    group by p.name, p.position
  )
  select fl.name, coalesce(c.companies, 0), coalesce(c.covered, 0), coalesce(c.listed, 0),
         exists (select 1 from public.feature_flags r where r.name = 'ROLLBACK_MODE' and r.enabled)
  from (select * from flags union all select 'NUDGES', 5) fl
  left join counted c on c.name = fl.name
  order by fl.position
$$;

comment on function public.flag_coverage() is
  'Companies each rollout flag covers as configured (ROLLBACK_MODE aside), and NUDGES: scheduled and notified.';

revoke execute on function private.flag_covers(text, text), public.flag_coverage() from public, anon, authenticated;
grant execute on function private.flag_covers(text, text), public.flag_coverage() to service_role;
