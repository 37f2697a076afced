-- Integrity checks (the rollout plan's daily SQL plus the invariants the product relies on), run
-- daily by pg_cron and on demand by `deno task rollout integrity` and `verify`. Results are kept:
-- one row per run with the per-day counts, one row per check with its violation count and a few
-- sample ids (row ids only, never member data). Not tenant data: RLS is forced with no policy, so
-- only the service role (bypassrls) and the owner reach them.
--
-- Checks look at rows that arrived or changed since p_since (bounded work on big tables; the CLI
-- and verify pass their own window), except the one-open-case check, which covers every open case.

create table public.integrity_runs (
  id bigint generated always as identity primary key,
  source text not null constraint integrity_runs_source_valid check (source in ('cron', 'cli', 'verify', 'test')),
  since timestamptz not null,
  status text not null constraint integrity_runs_status_valid check (status in ('pass', 'fail')),
  violations bigint not null default 0,
  -- [{day, events, recovery_cases, job_queue}], one entry per UTC day since p_since, by created_at.
  daily_counts jsonb not null default '[]',
  started_at timestamptz not null default clock_timestamp(),
  finished_at timestamptz,
  created_at timestamptz not null default now()
);

create index integrity_runs_created_idx on public.integrity_runs (created_at desc);

create table public.integrity_findings (
  run_id bigint not null references public.integrity_runs (id) on delete cascade,
  check_name text not null,
  description text not null,
  violations bigint not null,
  -- Up to five ids of offending rows (events, cases or jobs), for an operator to look at.
  sample_ids text[] not null default '{}',
  created_at timestamptz not null default now(),
  primary key (run_id, check_name)
);

alter table public.integrity_runs enable row level security;
alter table public.integrity_runs force row level security;
alter table public.integrity_findings enable row level security;
alter table public.integrity_findings force row level security;
revoke all on public.integrity_runs, public.integrity_findings from public, anon, authenticated;
grant all on public.integrity_runs, public.integrity_findings to service_role;

create or replace function private.run_integrity_checks(
  p_since timestamptz default now() - interval '7 days', p_source text default 'cron'
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_run bigint;
  v_daily jsonb;
  v_violations bigint;
begin
  -- The plan's daily SQL: what arrived per day in the three core tables.
  -- One pass over each table, grouped by UTC day (a day with no rows still gets its zeros).
  with bounds as (
    select (p_since at time zone 'UTC')::date as first_day,
           ((p_since at time zone 'UTC')::date)::timestamp at time zone 'UTC' as first_start
  ), days as (
    select g.day::date as day
    from bounds b, generate_series(b.first_day, (now() at time zone 'UTC')::date, interval '1 day') as g(day)
  ), ev as (
    select (e.created_at at time zone 'UTC')::date as day, count(*) as n
    from public.events e, bounds b where e.created_at >= b.first_start group by 1
  ), rc as (
    select (c.created_at at time zone 'UTC')::date as day, count(*) as n
    from public.recovery_cases c, bounds b where c.created_at >= b.first_start group by 1
  ), jq as (
    select (j.created_at at time zone 'UTC')::date as day, count(*) as n
    from public.job_queue j, bounds b where j.created_at >= b.first_start group by 1
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'day', d.day, 'events', coalesce(ev.n, 0), 'recovery_cases', coalesce(rc.n, 0), 'job_queue', coalesce(jq.n, 0)
         ) order by d.day), '[]')
  into v_daily
  from days d
  left join ev on ev.day = d.day
  left join rc on rc.day = d.day
  left join jq on jq.day = d.day;

  insert into public.integrity_runs (source, since, status, daily_counts)
  values (p_source, p_since, 'pass', v_daily)
  returning id into v_run;

  -- Every processed payment failure belongs to a case that was open when it happened (it opened
  -- one, or merged into the open one).
  insert into public.integrity_findings (run_id, check_name, description, violations, sample_ids)
  select v_run, 'failed_payment_has_case', 'every processed payment failure has its recovery case',
         count(*), coalesce((array_agg(e.id order by e.occurred_at, e.id))[1:5], '{}')
  from public.events e
  where e.type in ('payment.failed', 'payment.requires_action') and e.membership_id is not null
    and e.processed_at is not null and e.received_at >= p_since
    and not exists (
      select 1 from public.recovery_cases rc
      where rc.company_id = e.company_id and rc.membership_id = e.membership_id
        and rc.opened_at <= e.occurred_at and (rc.closed_at is null or rc.closed_at >= e.occurred_at));

  -- The partial unique index enforces this; the check catches an index that went missing.
  insert into public.integrity_findings (run_id, check_name, description, violations, sample_ids)
  select v_run, 'one_open_case_per_membership', 'no membership has two open cases',
         count(*), coalesce((array_agg(dup.extra_id order by dup.extra_id))[1:5], '{}')
  from (
    select (array_agg(rc.id::text order by rc.opened_at, rc.id))[2] as extra_id
    from public.recovery_cases rc
    where rc.status = 'open'
    group by rc.company_id, rc.membership_id
    having count(*) > 1
  ) dup;

  -- A job is delivered once: one `sent` attempt per job.
  insert into public.integrity_findings (run_id, check_name, description, violations, sample_ids)
  select v_run, 'job_sent_once', 'no nudge job has more than one sent attempt',
         count(*), coalesce((array_agg(twice.job_id::text order by twice.job_id))[1:5], '{}')
  from (
    select a.job_id from public.notification_attempts a
    where a.status = 'sent' and a.created_at >= p_since
    group by a.job_id
    having count(*) > 1
  ) twice;

  -- The free-days incentive is applied at most once per case (its Idempotency-Key names the case).
  insert into public.integrity_findings (run_id, check_name, description, violations, sample_ids)
  select v_run, 'incentive_applied_once', 'no case got the free-days incentive twice',
         count(*), coalesce((array_agg(twice.case_id::text order by twice.case_id))[1:5], '{}')
  from (
    select j.case_id from public.job_queue j
    where j.channel = 'incentive' and j.status = 'sent' and j.updated_at >= p_since
    group by j.case_id
    having count(*) > 1
  ) twice;

  -- A recovered case names the success event that closed it, and that event is stored (until the
  -- 30-day event retention may have purged it).
  insert into public.integrity_findings (run_id, check_name, description, violations, sample_ids)
  select v_run, 'recovered_case_has_closing_event', 'every recovered case has its closing success event',
         count(*), coalesce((array_agg(rc.id::text order by rc.closed_at, rc.id))[1:5], '{}')
  from public.recovery_cases rc
  where rc.status = 'recovered' and rc.updated_at >= p_since
    and (rc.closing_event_id is null
         or (rc.closed_at > now() - interval '30 days'
             and not exists (
               select 1 from public.events e
               where e.id = rc.closing_event_id and e.company_id = rc.company_id
                 and e.membership_id = rc.membership_id
                 and private.event_effect(e.type, e.cancel_at_period_end) = 'success')));

  select coalesce(sum(f.violations), 0) into v_violations from public.integrity_findings f where f.run_id = v_run;
  update public.integrity_runs
  set status = case when v_violations = 0 then 'pass' else 'fail' end,
      violations = v_violations, finished_at = clock_timestamp()
  where id = v_run;

  -- Keep three months of runs.
  delete from public.integrity_runs where created_at < now() - interval '90 days';
  return v_run;
end
$$;

revoke execute on function private.run_integrity_checks(timestamptz, text) from public, anon, authenticated;
grant execute on function private.run_integrity_checks(timestamptz, text) to service_role;

-- Daily, at a quiet hour (UTC); cron.schedule with a job name replaces an existing job of that name.
select cron.schedule('churn-saver-integrity', '23 3 * * *', 'select private.run_integrity_checks()');
