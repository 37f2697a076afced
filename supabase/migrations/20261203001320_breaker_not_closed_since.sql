-- An open or half-open circuit breaker for longer than its cool-off is an alert (issue 11): its
-- probe did not close it, so the channel has been failing (or stuck) through at least one
-- cool-off. opened_at cannot tell: a failed probe opens the breaker again and resets it. So each
-- breaker keeps when it last left `closed` (not_closed_since, through every re-open) and the
-- cool-off its dispatcher gave it (the dispatcher's DISPATCH_BREAKER_COOLOFF_SECONDS, which the
-- dashboard does not know: read from retry_at when the breaker opens). A trigger maintains both,
-- whatever function changes the row.

alter table public.circuit_breakers
  add column not_closed_since timestamptz,
  add column cooloff_seconds integer constraint circuit_breakers_cooloff_positive check (cooloff_seconds >= 0);
comment on column public.circuit_breakers.not_closed_since is
  'When the breaker last left closed; null while closed. Kept through re-opens (private.track_breaker_outage).';
comment on column public.circuit_breakers.cooloff_seconds is
  'The cool-off of the breaker''s last opening (retry_at minus the time it opened).';

-- The time of the change: the functions stamp updated_at with their (possibly injected) clock.
create or replace function private.track_breaker_outage() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_at timestamptz := case when new.updated_at is distinct from old.updated_at then new.updated_at else now() end;
begin
  if new.state = 'closed' then
    new.not_closed_since := null;
  elsif old.state = 'closed' or new.not_closed_since is null then
    new.not_closed_since := v_at;
  end if;
  if new.state = 'open' and new.retry_at is not null and new.retry_at is distinct from old.retry_at then
    new.cooloff_seconds := greatest(0, round(extract(epoch from new.retry_at - v_at)))::integer;
  end if;
  return new;
end
$$;

create trigger circuit_breakers_track_outage
  before update on public.circuit_breakers
  for each row execute function private.track_breaker_outage();

-- Breakers that are not closed now (made before this migration) start counting from their opening.
update public.circuit_breakers
set not_closed_since = coalesce(opened_at, updated_at),
    cooloff_seconds = greatest(0, round(extract(epoch from retry_at - opened_at)))::integer
where state <> 'closed';

-- The breakers as the ops endpoints judge them. stuck: not closed for longer than its cool-off (a
-- breaker whose cool-off is unknown counts from the moment it left closed).
create or replace function public.ops_breaker_figures(p_now timestamptz default now())
returns table (
  channel text, state text, consecutive_failures integer, opened_at timestamptz, retry_at timestamptz,
  not_closed_since timestamptz, not_closed_seconds double precision, cooloff_seconds integer, stuck boolean
)
language sql
stable
set search_path = ''
as $$
  select b.channel, b.state, b.consecutive_failures, b.opened_at, b.retry_at, b.not_closed_since,
         round(extract(epoch from p_now - b.not_closed_since), 3)::double precision,
         b.cooloff_seconds,
         coalesce(b.state <> 'closed'
                  and p_now - b.not_closed_since > make_interval(secs => coalesce(b.cooloff_seconds, 0)), false)
  from public.circuit_breakers b
  order by b.channel
$$;

revoke execute on function private.track_breaker_outage(), public.ops_breaker_figures(timestamptz)
  from public, anon, authenticated;
grant execute on function public.ops_breaker_figures(timestamptz) to service_role;
