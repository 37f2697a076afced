-- Completions written in batches (issue 12). Before, the dispatcher recorded each job's outcome with
-- its own complete_job call: a round trip and a commit (a WAL flush) per sent job, which with the
-- claim and the lease renewal made a job cost three commits. public.complete_jobs records a whole
-- chunk of outcomes in one statement: the same updates, attempt rows and release of a case's
-- waiting free-days grant as complete_job (20261203000300_honest_incentive_and_step_position.sql),
-- and it answers the ids it recorded; a job not answered is no longer p_worker's (lease lost) and
-- nothing was written for it. complete_job keeps its signature and now records through it, so the
-- rules live in one place.

create function public.complete_jobs(p_worker text, p_results jsonb, p_now timestamptz default now())
returns setof bigint
language plpgsql
set search_path = ''
as $$
declare
  v_bad record;
begin
  if jsonb_typeof(p_results) is distinct from 'array' then
    raise exception 'p_results must be a JSON array of job outcomes' using errcode = '22023';
  end if;
  select r.outcome, r.retry_at into v_bad
  from jsonb_to_recordset(p_results) as r (job_id bigint, outcome text, retry_at timestamptz)
  where r.job_id is null or r.outcome is null
     or r.outcome not in ('sent', 'retry', 'failed', 'dead', 'skipped', 'deferred')
     or (r.outcome in ('retry', 'deferred') and r.retry_at is null)
  limit 1;
  if found then
    if v_bad.outcome in ('retry', 'deferred') then
      raise exception 'outcome % needs p_retry_at', v_bad.outcome using errcode = '22023';
    end if;
    raise exception 'unknown job outcome "%"', v_bad.outcome using errcode = '22023';
  end if;

  return query
  with result as (
    -- One outcome per job: a job named twice keeps its first.
    select distinct on (r.job_id) r.*
    from jsonb_array_elements(p_results) with ordinality as e (item, n)
    cross join lateral jsonb_to_record(e.item) as r (
      job_id bigint, outcome text, http_status integer, latency_ms integer, error text, retry_at timestamptz
    )
    order by r.job_id, e.n
  ), done as (
    update public.job_queue j set
      status = case when r.outcome in ('retry', 'deferred') then 'pending' else r.outcome end,
      scheduled_for = coalesce(r.retry_at, j.scheduled_for),
      sent_at = case when r.outcome = 'sent' then p_now else j.sent_at end,
      attempts = j.attempts - (r.outcome = 'deferred')::integer,
      lease_expires_at = null,
      claimed_by = null,
      last_error = case when r.outcome = 'sent' then null else left(r.error, 500) end
    from result r
    where j.id = r.job_id and j.status = 'claimed' and j.claimed_by = p_worker
    returning j.id, j.company_id, j.case_id, j.channel, r.outcome, r.http_status, r.latency_ms, r.error
  ), attempts as (
    insert into public.notification_attempts (job_id, company_id, status, http_status, latency_ms, error)
    select d.id, d.company_id, d.outcome, d.http_status, d.latency_ms, left(d.error, 500)
    from done d
    where d.outcome <> 'deferred'
  ), released as (
    -- A delivered push or DM announced the case's free days: its waiting grant is due now. (A grant
    -- in this batch is claimed, not waiting, so no row is updated twice.)
    update public.job_queue g set scheduled_for = p_now
    where g.case_id in (select d.case_id from done d where d.outcome = 'sent' and d.channel <> 'incentive')
      and g.channel = 'incentive' and g.status = 'pending' and g.scheduled_for = 'infinity'
  )
  select d.id from done d;
end
$$;

create or replace function public.complete_job(
  p_job_id bigint, p_worker text, p_outcome text, p_http_status integer default null, p_latency_ms integer default null,
  p_error text default null, p_retry_at timestamptz default null, p_now timestamptz default now()
)
returns boolean
language sql
set search_path = ''
as $$
  select exists (
    select 1 from public.complete_jobs(p_worker, jsonb_build_array(jsonb_build_object(
      'job_id', p_job_id, 'outcome', p_outcome, 'http_status', p_http_status, 'latency_ms', p_latency_ms,
      'error', p_error, 'retry_at', p_retry_at)), p_now)
  )
$$;

revoke execute on function public.complete_jobs(text, jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.complete_jobs(text, jsonb, timestamptz) to service_role;
