-- An honest incentive, and messages that know where they stand in the schedule.
--
-- Before: the free-days grant was due with the first nudge, whether or not any message reached the
-- member, the first message did not mention it, later ones promised it "once it's sorted", and the
-- number quoted was read from today's settings. Now:
-- * the number of days is decided once per case, when its jobs are first scheduled, and kept on the
--   case (`recovery_cases.incentive_free_days`); changing the setting applies to cases opened later;
-- * the grant waits (scheduled for 'infinity') until a push or DM of the case is delivered: every
--   message rendered while the grant is pending announces it, so a delivered message is the
--   announcement, and complete_job releases the grant in the same transaction;
-- * claim_due_jobs returns the case's days, whether they were already given (later messages speak of
--   them as given), and how many scheduled steps the case has on the job's channel, so the wording of
--   the first, middle and last steps is chosen by position whatever the schedule's length.
-- A changed result type needs drop and create; the grants are given again below.

alter table public.recovery_cases
  add column incentive_free_days smallint
    constraint recovery_cases_incentive_range check (incentive_free_days between 0 and 1095);
comment on column public.recovery_cases.incentive_free_days is
  'Free days offered to this case''s member, decided when its jobs were first scheduled (null: not yet).';

-- Cases from before: the days their incentive job would have granted (today''s setting), else none.
update public.recovery_cases rc
set incentive_free_days = case
  when exists (select 1 from public.job_queue j where j.case_id = rc.id and j.channel = 'incentive')
    then s.incentive_free_days else 0 end
from public.company_settings s
where s.company_id = rc.company_id;

-- Pending grants whose case has delivered nothing yet wait for the message that announces them.
update public.job_queue j set scheduled_for = 'infinity'
where j.channel = 'incentive' and j.status = 'pending'
  and not exists (select 1 from public.job_queue m
                  where m.case_id = j.case_id and m.channel in ('push', 'dm') and m.status = 'sent');

create or replace function private.schedule_case_jobs(p_case_id uuid) returns integer
language plpgsql
set search_path = ''
as $$
declare
  changed integer;
begin
  -- The case's offer is fixed the first time: the free days only help a member who still has a
  -- membership to extend.
  update public.recovery_cases rc
  set incentive_free_days = case when rc.reason = 'membership_deactivated' then 0 else s.incentive_free_days end
  from public.company_settings s
  where rc.id = p_case_id and rc.status = 'open' and rc.incentive_free_days is null and s.company_id = rc.company_id;

  insert into public.job_queue as j (case_id, company_id, channel, step, scheduled_for)
  select rc.id, rc.company_id, ch.channel, o.step - 1,
         case when ch.channel = 'incentive' then 'infinity'::timestamptz
              else private.nudge_due_at(rc.opened_at, o.offset_days, s.send_hour, s.time_zone) end
  from public.recovery_cases rc
  join public.company_settings s on s.company_id = rc.company_id
  cross join lateral unnest(s.nudge_offsets_days) with ordinality as o(offset_days, step)
  cross join lateral (values
    ('push', s.push_enabled),
    ('dm', s.dm_enabled),
    -- One grant per case, released by the first delivered message (complete_job).
    ('incentive', coalesce(rc.incentive_free_days, 0) > 0 and o.step = 1)
  ) as ch(channel, enabled)
  where rc.id = p_case_id and rc.status = 'open' and ch.enabled
  on conflict (case_id, channel, step) where origin = 'schedule' do update set scheduled_for = excluded.scheduled_for
    where j.status = 'pending' and j.channel <> 'incentive' and j.scheduled_for is distinct from excluded.scheduled_for;
  get diagnostics changed = row_count;
  return changed;
end
$$;

-- As before (20261126020000_nudge_dispatch.sql), and a delivered push or DM releases the case's
-- waiting free-days grant: that message announced it.
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
  v_case uuid;
  v_channel text;
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
  returning company_id, case_id, channel into v_company, v_case, v_channel;
  if v_company is null then
    return false;
  end if;
  if p_outcome <> 'deferred' then
    insert into public.notification_attempts (job_id, company_id, status, http_status, latency_ms, error)
    values (p_job_id, v_company, p_outcome, p_http_status, p_latency_ms, left(p_error, 500));
  end if;
  if p_outcome = 'sent' and v_channel <> 'incentive' then
    update public.job_queue set scheduled_for = p_now
    where case_id = v_case and channel = 'incentive' and status = 'pending' and scheduled_for = 'infinity';
  end if;
  return true;
end
$$;

drop function public.claim_due_jobs(text, integer, integer, timestamptz);

-- As in 20261126040110_claim_due_jobs_rollout_and_reason.sql, plus step_count and incentive_state;
-- incentive_free_days is now the case's.
create function public.claim_due_jobs(
  p_worker text, p_batch integer default 100, p_lease_seconds integer default 120, p_now timestamptz default now()
)
returns table (
  job_id bigint, status text, case_id uuid, company_id text, channel text, step smallint, origin text,
  attempts integer, membership_id text, user_id text, experience_id text, templates jsonb,
  incentive_free_days smallint, amount_minor bigint, currency text, company_title text,
  member_name_ciphertext text, recovery_url text, manage_url text, note text, reason text,
  product_title text, step_count integer, incentive_state text
)
language plpgsql
set search_path = ''
as $$
declare
  v_everyone boolean;
begin
  if not private.flag_enabled('SCHEDULER_ENABLED') then
    return;
  end if;
  -- At 100% every company is in: the per-company check (a function call per due row) is skipped.
  select f.rollout_percent = 100 into v_everyone from public.feature_flags f where f.name = 'SCHEDULER_ENABLED';
  return query
  with due as (
    select j.id from public.job_queue j
    where ((j.status = 'pending' and j.scheduled_for <= p_now)
           or (j.status = 'claimed' and j.lease_expires_at <= p_now))
      -- A percent rollout of the scheduler: other companies' jobs wait, unclaimed.
      and (v_everyone or private.flag_enabled('SCHEDULER_ENABLED', j.company_id))
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
        when j.channel = 'incentive' and coalesce(rc.incentive_free_days, 0) = 0 then 'skipped'
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
        when j.channel = 'incentive' and coalesce(rc.incentive_free_days, 0) = 0 then 'no free days for this case'
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
         rc.membership_id, rc.user_id, s.experience_id, s.templates, coalesce(rc.incentive_free_days, 0)::smallint,
         rc.amount_at_risk_minor, rc.currency, c.title, m.name_ciphertext, rc.recovery_url, rc.manage_url, u.why,
         rc.reason, p.product_title, coalesce(k.step_count, 1)::integer,
         case when coalesce(rc.incentive_free_days, 0) = 0 then 'none'
              when k.incentive_status = 'sent' then 'given'
              when k.incentive_status in ('pending', 'claimed') then 'offered'
              else 'none' end
  from updated u
  join public.recovery_cases rc on rc.id = u.case_id
  join public.company_settings s on s.company_id = u.company_id
  join public.companies c on c.company_id = u.company_id
  left join public.members m on m.company_id = rc.company_id and m.user_id = rc.user_id
  left join lateral (
    select e.product_title
    from public.events e
    where e.company_id = rc.company_id and e.membership_id = rc.membership_id and e.product_title is not null
    order by e.occurred_at desc
    limit 1
  ) p on true
  -- The case's own schedule (it may predate a settings change) and its grant.
  left join lateral (
    select max(j2.step) filter (where j2.channel = u.channel and j2.origin = 'schedule') + 1 as step_count,
           min(j2.status) filter (where j2.channel = 'incentive' and j2.origin = 'schedule') as incentive_status
    from public.job_queue j2
    where j2.case_id = u.case_id
  ) k on true
  order by u.id;
end
$$;

revoke execute on function public.claim_due_jobs(text, integer, integer, timestamptz) from public, anon, authenticated;
grant execute on function public.claim_due_jobs(text, integer, integer, timestamptz) to service_role;
