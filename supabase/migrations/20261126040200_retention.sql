-- Retention (ARCHITECTURE section 9): raw events, with their encrypted payload, go 30 days after
-- receipt; closed cases, with their jobs, attempts and clicks, 60 days after closing (and after
-- their last change); member PII 30 days after it last changed, once no event or case refers to it. pg_cron runs the purge every minute in small batches (one
-- short transaction per run, only the purged rows locked, locked rows skipped), so ingest and the
-- dispatcher never wait on it. Daily rollups (`daily_company_stats`) are brought up to date first
-- and never purged, so the dashboard keeps its history. Every run is recorded in `retention_runs`.
--
-- Events and the case engine: cases are replayed from their membership's stored events, and a
-- stored case whose opening event is gone is left alone by replay (never matched, changed or
-- deleted). So events are purged per membership as a whole prefix in event-time order, cut only
-- where the replay of the events that remain starts from a clean slate: no open case, no case that
-- would absorb the next remaining event, no lost case that could still be won back. A membership's
-- old events wait (beyond 30 days) while one of its cases still needs them, e.g. a case open for
-- longer than 30 days under a long attribution window. A case is purged only after its opening
-- event, so replay can never recreate it.

-- Member rows are found by (company, user) when deciding whether anything still refers to them.
create index if not exists events_company_user_idx on public.events (company_id, user_id) where user_id is not null;

create table public.retention_runs (
  id bigint generated always as identity primary key,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  -- {"events": n, "cases": n, "jobs": n, "attempts": n, "clicks": n, "members": n, "rollup_days": n, ...}
  counts jsonb not null,
  created_at timestamptz not null default now()
);

-- Operators' data, not a tenant's: RLS forced with no policy, so only the service role reaches it.
alter table public.retention_runs enable row level security;
alter table public.retention_runs force row level security;
revoke all on public.retention_runs from public, anon, authenticated;
grant all on public.retention_runs to service_role;

-- The last event (occurred_at, id) of the longest purgeable prefix of one membership's events, or
-- no row: every event up to it was received before p_cutoff, and cutting after it leaves no case
-- of the membership that the replay of the remaining events would still need.
create or replace function private.event_purge_cut(p_company_id text, p_membership_id text, p_cutoff timestamptz)
returns table (occurred_at timestamptz, id text)
language sql
stable
set search_path = ''
as $$
  with ordered as (
    select e.id, e.occurred_at,
           bool_and(e.received_at < p_cutoff) over w as old_prefix,
           lead(e.occurred_at) over w as next_at
    from public.events e
    where e.company_id = p_company_id and e.membership_id = p_membership_id
    window w as (order by e.occurred_at, e.id)
  )
  select o.occurred_at, o.id
  from ordered o
  where o.old_prefix
    and not exists (
      select 1
      from public.recovery_cases c
      left join public.company_settings s on s.company_id = c.company_id
      where c.company_id = p_company_id and c.membership_id = p_membership_id and c.opened_at <= o.occurred_at
        and (c.status = 'open'
             -- Until it ends, a case takes in the next event (or, when none is left, future ones).
             or coalesce(o.next_at, now()) <= case
                  when c.status = 'lost'
                    then greatest(c.closed_at, c.opened_at + make_interval(days => coalesce(s.attribution_window_days, 14)))
                  else c.closed_at
                end))
  order by o.occurred_at desc, o.id desc
  limit 1
$$;

-- One retention run: at most p_max_batches batches of p_batch_size rows per kind. Returns the
-- counts (also stored in retention_runs); `more` says a limit was reached and rows are left.
create or replace function private.purge_expired_data(
  p_batch_size integer default 200,
  p_max_batches integer default 2,
  p_event_retention interval default interval '30 days',
  p_case_retention interval default interval '60 days'
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  started timestamptz := clock_timestamp();
  event_cutoff timestamptz := now() - p_event_retention;
  case_cutoff timestamptz := now() - p_case_retention;
  counts jsonb;
  n_events bigint := 0;
  n_cases bigint := 0;
  n_jobs bigint := 0;
  n_attempts bigint := 0;
  n_clicks bigint := 0;
  n_members bigint := 0;
  n_rollup_days bigint := 0;
  n_waiting_memberships bigint := 0;
  more boolean := false;
  batch integer;
  n bigint;
  deleted bigint;
  v_company text;
  ids uuid[];
  membership record;
  last_key text[] := array['', ''];
  cut record;
begin
  if p_batch_size is null or p_batch_size < 1 or p_max_batches is null or p_max_batches < 1 then
    raise exception 'batch size and number of batches must be at least 1' using errcode = '22023';
  end if;
  if p_event_retention < interval '1 day' or p_case_retention < interval '1 day' then
    raise exception 'retention periods must be at least a day' using errcode = '22023';
  end if;

  -- 1. Rollups first, for every company whose cases are about to go and whose rollup does not yet
  -- cover their days (the hourly refresh normally has; two days of margin for time zones). A run that
  -- refreshes does nothing else, so that it stays short: the purge follows in the next run.
  for v_company in
    select c.company_id
    from public.companies c
    left join public.daily_stats_watermarks w on w.company_id = c.company_id
    where (w.through is null or w.through < (case_cutoff at time zone 'UTC')::date + 2)
      and exists (select 1 from public.recovery_cases rc
                  where rc.company_id = c.company_id and rc.status <> 'open' and rc.closed_at < case_cutoff
                    and rc.updated_at < case_cutoff)
    order by c.company_id
  loop
    n_rollup_days := n_rollup_days + private.refresh_daily_stats(v_company);
    more := true;
  end loop;

  if not more then
    -- 2. Events that belong to no membership have no case to keep consistent.
    for batch in 1..p_max_batches loop
      delete from public.events e
      where e.id in (select d.id from public.events d
                     where d.received_at < event_cutoff and d.membership_id is null
                     order by d.received_at
                     limit p_batch_size
                     for update skip locked);
      get diagnostics n = row_count;
      n_events := n_events + n;
      exit when n < p_batch_size;
      more := more or batch = p_max_batches;
    end loop;

    -- 3. Membership events, a batch of memberships at a time, each cut at its purgeable prefix.
    for batch in 1..p_max_batches loop
      n := 0;
      for membership in
        select e.company_id, e.membership_id
        from public.events e
        where e.received_at < event_cutoff and e.membership_id is not null
          and (e.company_id, e.membership_id) > (last_key[1], last_key[2])
        group by e.company_id, e.membership_id
        order by e.company_id, e.membership_id
        limit p_batch_size
      loop
        n := n + 1;
        last_key := array[membership.company_id, membership.membership_id];
        select * into cut from private.event_purge_cut(membership.company_id, membership.membership_id, event_cutoff);
        if cut.id is null then
          n_waiting_memberships := n_waiting_memberships + 1;
          continue;
        end if;
        delete from public.events e
        where e.id in (select d.id from public.events d
                       where d.company_id = membership.company_id and d.membership_id = membership.membership_id
                         and (d.occurred_at, d.id) <= (cut.occurred_at, cut.id)
                       for update skip locked);
        get diagnostics deleted = row_count;
        n_events := n_events + deleted;
      end loop;
      exit when n < p_batch_size;
      more := more or batch = p_max_batches;
    end loop;

    -- 4. Closed cases 60 days after closing, once their opening event is gone, with everything hanging
    -- off them (deleted explicitly, children first, so that each is counted). A row written recently
    -- (a late correction, or a backfill with old dates) gets its full period from that write.
    for batch in 1..p_max_batches loop
      select array_agg(d.id) into ids
      from (select rc.id from public.recovery_cases rc
            where rc.status <> 'open' and rc.closed_at < case_cutoff and rc.updated_at < case_cutoff
              and not exists (select 1 from public.events e where e.id = rc.opening_event_id)
            order by rc.closed_at
            limit p_batch_size
            for update skip locked) d;
      exit when ids is null;
      delete from public.link_clicks k where k.case_id = any (ids);
      get diagnostics n = row_count;
      n_clicks := n_clicks + n;
      delete from public.notification_attempts a using public.job_queue j
      where a.job_id = j.id and j.case_id = any (ids);
      get diagnostics n = row_count;
      n_attempts := n_attempts + n;
      delete from public.job_queue j where j.case_id = any (ids);
      get diagnostics n = row_count;
      n_jobs := n_jobs + n;
      delete from public.recovery_cases rc where rc.id = any (ids);
      get diagnostics n = row_count;
      n_cases := n_cases + n;
      exit when n < p_batch_size;
      more := more or batch = p_max_batches;
    end loop;

    -- 5. Member PII that nothing refers to any more (its events and cases are gone).
    for batch in 1..p_max_batches loop
      delete from public.members m
      where (m.company_id, m.user_id) in (
        select d.company_id, d.user_id from public.members d
        where d.last_event_at < event_cutoff and d.updated_at < event_cutoff
          and not exists (select 1 from public.events e where e.company_id = d.company_id and e.user_id = d.user_id)
          and not exists (select 1 from public.recovery_cases rc
                          where rc.company_id = d.company_id and rc.user_id = d.user_id)
        order by d.last_event_at
        limit p_batch_size
        for update skip locked);
      get diagnostics n = row_count;
      n_members := n_members + n;
      exit when n < p_batch_size;
      more := more or batch = p_max_batches;
    end loop;

  end if;

  -- The run log keeps a year.
  delete from public.retention_runs r where r.started_at < now() - interval '365 days';

  counts := jsonb_build_object(
    'events', n_events, 'cases', n_cases, 'jobs', n_jobs, 'attempts', n_attempts, 'clicks', n_clicks,
    'members', n_members, 'rollup_days', n_rollup_days, 'memberships_waiting', n_waiting_memberships,
    'more', more);
  insert into public.retention_runs (started_at, finished_at, counts) values (started, clock_timestamp(), counts);
  return counts;
end
$$;

revoke execute on function private.event_purge_cut(text, text, timestamptz),
  private.purge_expired_data(integer, integer, interval, interval)
from public, anon, authenticated;
grant execute on function private.purge_expired_data(integer, integer, interval, interval) to service_role;

select cron.schedule('churn-saver-retention', '* * * * *', 'select private.purge_expired_data()');
