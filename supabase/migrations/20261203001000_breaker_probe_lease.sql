-- A circuit breaker always leaves half_open (issue 11). Before, only a probe's success or 5xx/timeout
-- moved it: a probe answered 429 or another 4xx recorded nothing, and a dispatcher that died holding
-- the probe left it half_open for good, so every later round deferred the whole channel. Now:
-- * the probe is leased: breaker_try_probe names its holder and gives it p_lease_seconds; once that
--   passes (the holder died), another dispatcher takes the probe over. A half_open row without a
--   lease (left by the old functions) can be taken at once;
-- * every answer counts (breaker_record's p_answer): `reachable` (2xx, or a 4xx other than 429: Whop
--   answered, so it works) closes; `failing` (5xx, timeout) re-opens for a cool-off; `rate_limited`
--   (429) re-opens until the advised delay. Closing on a 429 would let every dispatcher's held jobs
--   into a limit that is per API key and operation, each spending an attempt on another 429 (and
--   rate-limited attempts count towards `dead`); re-opening defers them, not an attempt, and probes
--   again when Whop said. `unanswered` (the probe's job called nothing, e.g. its lease was lost)
--   hands the probe back, so that another job can probe at once.
-- The signatures change, so both functions are dropped and created again, with their grants.

alter table public.circuit_breakers
  add column probe_holder text,
  add column probe_lease_expires_at timestamptz;
comment on column public.circuit_breakers.probe_holder is
  'The dispatcher holding the half_open probe (breaker_try_probe); null otherwise.';
comment on column public.circuit_breakers.probe_lease_expires_at is
  'Until when the probe is its holder''s; after that another dispatcher may take it over.';

drop function public.breaker_try_probe(text, timestamptz);
drop function public.breaker_record(text, boolean, integer, integer, timestamptz);

-- Open past its retry time, or half_open with the probe's lease run out: p_holder becomes the one probe.
create function public.breaker_try_probe(
  p_channel text, p_holder text, p_lease_seconds integer, p_now timestamptz default now()
)
returns boolean
language sql
set search_path = ''
as $$
  with probe as (
    update public.circuit_breakers
    set state = 'half_open', probe_holder = p_holder,
        probe_lease_expires_at = p_now + make_interval(secs => p_lease_seconds), updated_at = p_now
    where channel = p_channel
      and ((state = 'open' and retry_at <= p_now)
           or (state = 'half_open' and (probe_lease_expires_at is null or probe_lease_expires_at <= p_now)))
    returning 1
  )
  select exists (select 1 from probe)
$$;

-- What one call said about Whop; returns the breaker's state afterwards. A 429 outside a probe
-- changes nothing (the job waits as advised); an unanswered probe is handed back only by its holder.
create function public.breaker_record(
  p_channel text, p_answer text, p_threshold integer default 5, p_cooloff_seconds integer default 30,
  p_now timestamptz default now(), p_retry_after_seconds integer default null, p_holder text default null
)
returns text
language plpgsql
set search_path = ''
as $$
declare
  v_state text;
begin
  if p_answer = 'reachable' then
    update public.circuit_breakers
    set state = 'closed', consecutive_failures = 0, opened_at = null, retry_at = null, probe_holder = null,
        probe_lease_expires_at = null, updated_at = p_now
    where channel = p_channel and (state <> 'closed' or consecutive_failures > 0);
  elsif p_answer = 'failing' then
    update public.circuit_breakers b set
      consecutive_failures = b.consecutive_failures + 1,
      state = case when b.state = 'half_open' or b.consecutive_failures + 1 >= p_threshold then 'open' else b.state end,
      opened_at = case when b.state <> 'open' and (b.state = 'half_open' or b.consecutive_failures + 1 >= p_threshold)
                       then p_now else b.opened_at end,
      retry_at = case when b.state = 'half_open' or (b.state = 'closed' and b.consecutive_failures + 1 >= p_threshold)
                      then p_now + make_interval(secs => p_cooloff_seconds) else b.retry_at end,
      probe_holder = case when b.state = 'half_open' then null else b.probe_holder end,
      probe_lease_expires_at = case when b.state = 'half_open' then null else b.probe_lease_expires_at end,
      updated_at = p_now
    where b.channel = p_channel;
  elsif p_answer = 'rate_limited' then
    update public.circuit_breakers
    set state = 'open', opened_at = p_now,
        retry_at = p_now + make_interval(secs => greatest(1, coalesce(p_retry_after_seconds, p_cooloff_seconds))),
        probe_holder = null, probe_lease_expires_at = null, updated_at = p_now
    where channel = p_channel and state = 'half_open';
  elsif p_answer = 'unanswered' then
    -- retry_at stays as it was (already passed), so the next dispatcher probes at once.
    update public.circuit_breakers
    set state = 'open', probe_holder = null, probe_lease_expires_at = null, updated_at = p_now
    where channel = p_channel and state = 'half_open' and probe_holder = p_holder;
  else
    raise exception 'unknown breaker answer "%"', p_answer using errcode = '22023';
  end if;
  select b.state into v_state from public.circuit_breakers b where b.channel = p_channel;
  return v_state;
end
$$;

revoke execute on function
  public.breaker_try_probe(text, text, integer, timestamptz),
  public.breaker_record(text, text, integer, integer, timestamptz, integer, text)
from public, anon, authenticated;
grant execute on function
  public.breaker_try_probe(text, text, integer, timestamptz),
  public.breaker_record(text, text, integer, integer, timestamptz, integer, text)
to service_role;
