-- Nudge dispatch: the dispatcher claims due jobs in batches (FOR UPDATE SKIP LOCKED, with a lease
-- so a crashed dispatcher's jobs are claimed again), records every attempt, and shares one circuit
-- breaker per channel across all invocations. Rollout flags decide at claim time:
-- SCHEDULER_ENABLED off claims nothing (on for a share of companies: only their jobs);
-- NOTIFICATIONS_ENABLED off for a company (or its nudges paused) marks due jobs `suppressed`. The free-days incentive is a job of its own (scheduled with
-- the first nudge), so it is applied at most once per case, and Whop dedupes it by Idempotency-Key.

create table public.circuit_breakers (
  channel text primary key constraint circuit_breakers_channel_valid check (channel in ('push', 'dm', 'incentive')),
  state text not null default 'closed' constraint circuit_breakers_state_valid check (state in ('closed', 'open', 'half_open')),
  consecutive_failures integer not null default 0,
  opened_at timestamptz,
  -- When an open breaker lets one probe through.
  retry_at timestamptz,
  updated_at timestamptz not null default now(),
  created_at timestamptz not null default now()
);
insert into public.circuit_breakers (channel) values ('push'), ('dm'), ('incentive') on conflict do nothing;

alter table public.circuit_breakers enable row level security;
alter table public.circuit_breakers force row level security;
revoke all on public.circuit_breakers from public, anon, authenticated;
grant all on public.circuit_breakers to service_role;

-- Claims up to p_batch due jobs (pending and due, or claimed with an expired lease) for p_worker.
-- Returns every job it decided about: `claimed` ones carry what sending needs; `suppressed`,
-- `skipped` and `cancelled` ones are final already and only reported.
create or replace function public.claim_due_jobs(
  p_worker text, p_batch integer default 100, p_lease_seconds integer default 120, p_now timestamptz default now()
)
returns table (
  job_id bigint, status text, case_id uuid, company_id text, channel text, step smallint, origin text,
  attempts integer, membership_id text, user_id text, experience_id text, templates jsonb,
  incentive_free_days smallint, amount_minor bigint, currency text, company_title text,
  member_name_ciphertext text, recovery_url text, manage_url text, note text
)
language plpgsql
set search_path = ''
as $$
begin
  if not private.flag_enabled('SCHEDULER_ENABLED') then
    return;
  end if;
  return query
  with due as (
    select j.id from public.job_queue j
    where ((j.status = 'pending' and j.scheduled_for <= p_now)
           or (j.status = 'claimed' and j.lease_expires_at <= p_now))
      -- A percent rollout of the scheduler: other companies' jobs wait, unclaimed.
      and private.flag_enabled('SCHEDULER_ENABLED', j.company_id)
    order by j.scheduled_for, j.id
    limit p_batch
    for update skip locked
  ), decided as (
    select due.id,
      case
        when rc.status <> 'open' then 'cancelled'
        when s.nudges_paused then 'suppressed'
        when not private.flag_enabled('NOTIFICATIONS_ENABLED', rc.company_id) then 'suppressed'
        when j.channel = 'push' and not s.push_enabled then 'skipped'
        when j.channel = 'dm' and not s.dm_enabled then 'skipped'
        when j.channel = 'push' and s.experience_id is null then 'skipped'
        when j.channel = 'incentive' and s.incentive_free_days = 0 then 'skipped'
        else 'claimed'
      end as next_status,
      case
        when rc.status <> 'open' then 'case closed'
        when s.nudges_paused then 'nudges paused by the creator'
        when not private.flag_enabled('NOTIFICATIONS_ENABLED', rc.company_id) then 'notifications are off for this company'
        when j.channel = 'push' and not s.push_enabled then 'push turned off in settings'
        when j.channel = 'dm' and not s.dm_enabled then 'direct messages turned off in settings'
        when j.channel = 'push' and s.experience_id is null
          then 'no experience_id: Whop only delivers member pushes through an experience'
        when j.channel = 'incentive' and s.incentive_free_days = 0 then 'incentive turned off'
      end as why
    from due
    join public.job_queue j on j.id = due.id
    join public.recovery_cases rc on rc.id = j.case_id
    join public.company_settings s on s.company_id = j.company_id
  ), updated as (
    update public.job_queue j set
      status = d.next_status,
      claimed_by = case when d.next_status = 'claimed' then p_worker end,
      lease_expires_at = case when d.next_status = 'claimed' then p_now + make_interval(secs => p_lease_seconds) end,
      attempts = j.attempts + (d.next_status = 'claimed')::integer,
      last_error = coalesce(d.why, j.last_error)
    from decided d
    where j.id = d.id
    returning j.id, j.status, j.case_id, j.company_id, j.channel, j.step, j.origin, j.attempts, d.why
  )
  select u.id, u.status, u.case_id, u.company_id, u.channel, u.step, u.origin, u.attempts,
         rc.membership_id, rc.user_id, s.experience_id, s.templates, s.incentive_free_days,
         rc.amount_at_risk_minor, rc.currency, c.title, m.name_ciphertext, rc.recovery_url, rc.manage_url, u.why
  from updated u
  join public.recovery_cases rc on rc.id = u.case_id
  join public.company_settings s on s.company_id = u.company_id
  join public.companies c on c.company_id = u.company_id
  left join public.members m on m.company_id = rc.company_id and m.user_id = rc.user_id
  order by u.id;
end
$$;

-- Records the outcome of a claimed job, if p_worker still holds its lease (a job claimed again
-- after its lease expired belongs to the new holder). Outcomes: sent | retry (due again at
-- p_retry_at) | failed | dead | skipped, each recorded as an attempt; deferred (the breaker held it
-- back: due again at p_retry_at, not an attempt).
create or replace function public.complete_job(
  p_job_id bigint, p_worker text, p_outcome text, p_http_status integer default null, p_latency_ms integer default null,
  p_error text default null, p_retry_at timestamptz default null, p_now timestamptz default now()
)
returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_company text;
begin
  if p_outcome not in ('sent', 'retry', 'failed', 'dead', 'skipped', 'deferred') then
    raise exception 'unknown job outcome "%"', p_outcome using errcode = '22023';
  end if;
  if p_outcome in ('retry', 'deferred') and p_retry_at is null then
    raise exception 'outcome % needs p_retry_at', p_outcome using errcode = '22023';
  end if;
  update public.job_queue set
    status = case when p_outcome in ('retry', 'deferred') then 'pending' else p_outcome end,
    scheduled_for = coalesce(p_retry_at, scheduled_for),
    sent_at = case when p_outcome = 'sent' then p_now else sent_at end,
    attempts = attempts - (p_outcome = 'deferred')::integer,
    lease_expires_at = null,
    claimed_by = null,
    last_error = case when p_outcome = 'sent' then null else left(p_error, 500) end
  where id = p_job_id and status = 'claimed' and claimed_by = p_worker
  returning company_id into v_company;
  if v_company is null then
    return false;
  end if;
  if p_outcome <> 'deferred' then
    insert into public.notification_attempts (job_id, company_id, status, http_status, latency_ms, error)
    values (p_job_id, v_company, p_outcome, p_http_status, p_latency_ms, left(p_error, 500));
  end if;
  return true;
end
$$;

-- Circuit breaker per channel, shared by every dispatcher. Closed: calls go through. Open: no
-- call until retry_at, then exactly one probe (half_open); its success closes the breaker, its
-- failure opens it again for another cool-off.
create or replace function public.breaker_try_probe(p_channel text, p_now timestamptz default now()) returns boolean
language sql
set search_path = ''
as $$
  with probe as (
    update public.circuit_breakers set state = 'half_open', updated_at = p_now
    where channel = p_channel and state = 'open' and retry_at <= p_now
    returning 1
  )
  select exists (select 1 from probe)
$$;

create or replace function public.breaker_record(
  p_channel text, p_success boolean, p_threshold integer default 5, p_cooloff_seconds integer default 30,
  p_now timestamptz default now()
)
returns text
language plpgsql
set search_path = ''
as $$
declare
  v_state text;
begin
  if p_success then
    update public.circuit_breakers
    set state = 'closed', consecutive_failures = 0, opened_at = null, retry_at = null, updated_at = p_now
    where channel = p_channel and (state <> 'closed' or consecutive_failures > 0);
    return 'closed';
  end if;
  update public.circuit_breakers b set
    consecutive_failures = b.consecutive_failures + 1,
    state = case when b.state = 'half_open' or b.consecutive_failures + 1 >= p_threshold then 'open' else b.state end,
    opened_at = case when b.state <> 'open' and (b.state = 'half_open' or b.consecutive_failures + 1 >= p_threshold)
                     then p_now else b.opened_at end,
    retry_at = case when b.state = 'half_open' or (b.state = 'closed' and b.consecutive_failures + 1 >= p_threshold)
                    then p_now + make_interval(secs => p_cooloff_seconds) else b.retry_at end,
    updated_at = p_now
  where b.channel = p_channel
  returning b.state into v_state;
  return v_state;
end
$$;

-- "Nudge now" from the dashboard: an immediate job for an open case of the company, audited.
create or replace function private.create_manual_nudge(p_company_id text, p_case_id uuid, p_channel text, p_actor text)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_job bigint;
begin
  if p_channel not in ('push', 'dm') then
    raise exception 'a manual nudge goes by push or dm, not "%"', p_channel using errcode = '22023';
  end if;
  perform 1 from public.recovery_cases
  where id = p_case_id and company_id = p_company_id and status = 'open'
  for update;
  if not found then
    raise exception 'no open case % for company %', p_case_id, p_company_id using errcode = 'P0002';
  end if;
  insert into public.job_queue (case_id, company_id, channel, step, origin, scheduled_for)
  values (p_case_id, p_company_id, p_channel, 0, 'manual', now())
  returning id into v_job;
  insert into public.audit_log (company_id, actor, action, target_type, target_id, after)
  values (p_company_id, p_actor, 'case.nudge', 'recovery_case', p_case_id::text,
          jsonb_build_object('channel', p_channel, 'job_id', v_job));
  return v_job;
end
$$;

-- Production: pg_cron calls the dispatch function every minute through pg_net, with the function's
-- URL and the cron secret kept in Vault (names below). Where pg_net or Vault is absent (the local
-- stack, whose runner calls the same endpoint itself) this does nothing.
create or replace function private.invoke_dispatch() returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if to_regprocedure('net.http_post(text,jsonb,jsonb,jsonb,integer)') is null
     or to_regclass('vault.decrypted_secrets') is null
     or not private.flag_enabled('SCHEDULER_ENABLED') then
    return;
  end if;
  execute $sql$
    select net.http_post(
      url := (select decrypted_secret from vault.decrypted_secrets where name = 'dispatch_notifications_url'),
      headers := jsonb_build_object(
        'Content-Type', 'application/json',
        'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets where name = 'cron_secret')),
      body := '{}'::jsonb,
      timeout_milliseconds := 55000)
    where exists (select 1 from vault.decrypted_secrets where name = 'dispatch_notifications_url')
  $sql$;
end
$$;

revoke execute on function
  public.claim_due_jobs(text, integer, integer, timestamptz),
  public.complete_job(bigint, text, text, integer, integer, text, timestamptz, timestamptz),
  public.breaker_try_probe(text, timestamptz), public.breaker_record(text, boolean, integer, integer, timestamptz),
  private.create_manual_nudge(text, uuid, text, text), private.invoke_dispatch()
from public, anon, authenticated;
grant execute on function
  public.claim_due_jobs(text, integer, integer, timestamptz),
  public.complete_job(bigint, text, text, integer, integer, text, timestamptz, timestamptz),
  public.breaker_try_probe(text, timestamptz), public.breaker_record(text, boolean, integer, integer, timestamptz),
  private.create_manual_nudge(text, uuid, text, text)
to service_role;

select cron.schedule('churn-saver-dispatch', '* * * * *', 'select private.invoke_dispatch()');
