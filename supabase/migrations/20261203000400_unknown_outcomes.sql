-- Exactly once without trusting Whop's idempotency (WHOP.md section 2: no Whop doc mentions an
-- Idempotency-Key and the official SDK never sends one). A call whose outcome is unknown (timeout,
-- connection error, 5xx, or a dispatcher that died holding the lease) may have taken effect, so
-- before repeating it the dispatcher checks Whop, against what it wrote down before the call:
-- * free days: the membership's renewal_period_end / expires_at as read before the first
--   add_free_days call; a retry reads the membership again and, if they moved, records the job as
--   sent without calling again;
-- * DM: the channel, the wall-clock time of the first send and a SHA-256 of each content sent; a
--   retry lists the channel's latest messages and, if one of ours is there, records the job as sent;
-- * push: nothing is written (Whop offers no way to read notifications back); the job's attempts
--   say how many ended unknown, and a push is resent at most once after an unknown outcome.
-- What is written lives with the job, in `job_queue.observed_before`, and only the worker holding
-- the job's lease may write it (a dispatcher whose lease ran out must not call Whop at all).

alter table public.job_queue add column observed_before jsonb
  constraint job_queue_observed_before_object check (jsonb_typeof(observed_before) = 'object');
comment on column public.job_queue.observed_before is
  'What the dispatcher saw or sent before a call that may be repeated: {"free_days": {...}, "dm": {...}} (unknown_outcome.ts).';

-- Writes the job's observation, if p_worker still holds its unexpired lease; false otherwise (then
-- the caller must not call Whop: the job is, or is about to be, someone else's).
create or replace function private.record_job_observation(
  p_job_id bigint, p_worker text, p_observed jsonb, p_now timestamptz default now()
)
returns boolean
language sql
set search_path = ''
as $$
  with written as (
    update public.job_queue
    set observed_before = p_observed
    where id = p_job_id and status = 'claimed' and claimed_by = p_worker and lease_expires_at > p_now
    returning 1
  )
  select exists (select 1 from written)
$$;

-- What the job's earlier attempts left: the observation, and how many of them may have reached Whop
-- without a known outcome. Each claim counts an attempt (a breaker deferral takes it back); of the
-- earlier ones, only a 429 certainly had no effect (a 4xx ends the job, so it is never followed by
-- another attempt). A claim that left no attempt row (the dispatcher died, or lost its lease)
-- counts as unknown.
create or replace function private.job_attempt_history(p_job_id bigint)
returns table (observed_before jsonb, unknown_attempts integer)
language sql stable
set search_path = ''
as $$
  select j.observed_before,
         greatest(0, j.attempts - 1 - (
           select count(*)::integer from public.notification_attempts a
           where a.job_id = j.id and a.status = 'retry' and a.http_status = 429))
  from public.job_queue j
  where j.id = p_job_id
$$;

revoke execute on function
  private.record_job_observation(bigint, text, jsonb, timestamptz),
  private.job_attempt_history(bigint)
from public, anon, authenticated;
grant execute on function
  private.record_job_observation(bigint, text, jsonb, timestamptz),
  private.job_attempt_history(bigint)
to service_role;
