-- Counters that protect and describe the webhook endpoint: rejections by reason (counts only,
-- never payloads, since a rejected body is unverified) and fixed-window rate-limit counters.
-- Neither is tenant data: RLS is forced with no policy, so only the service role reaches them.

create table public.webhook_rejections (
  day date not null default current_date,
  reason text not null constraint webhook_rejections_reason_length check (char_length(reason) between 1 and 50),
  count bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (day, reason)
);

-- Unlogged: counters are worthless after a crash and must not cost WAL on every request.
create unlogged table public.rate_limit_counters (
  key text not null,
  window_start timestamptz not null,
  count integer not null default 0,
  created_at timestamptz not null default now(),
  primary key (key, window_start)
);

alter table public.webhook_rejections enable row level security;
alter table public.webhook_rejections force row level security;
alter table public.rate_limit_counters enable row level security;
alter table public.rate_limit_counters force row level security;
revoke all on public.webhook_rejections, public.rate_limit_counters from public, anon, authenticated;
grant all on public.webhook_rejections, public.rate_limit_counters to service_role;

create or replace function private.record_webhook_rejection(p_reason text) returns void
language sql
set search_path = ''
as $$
  insert into public.webhook_rejections as r (reason, count) values (p_reason, 1)
  on conflict (day, reason) do update set count = r.count + 1, updated_at = now()
$$;

-- One atomic increment per call; answers whether the caller is still within `p_limit` for the
-- current window. Old windows are removed by the cron housekeeping job.
create or replace function private.take_rate_limit(p_key text, p_limit integer, p_window_seconds integer)
returns boolean
language sql
set search_path = ''
as $$
  insert into public.rate_limit_counters as c (key, window_start, count)
  values (p_key, to_timestamp(floor(extract(epoch from now()) / p_window_seconds) * p_window_seconds), 1)
  on conflict (key, window_start) do update set count = c.count + 1
  returning count <= p_limit
$$;

create or replace function private.trim_rate_limit_counters() returns bigint
language plpgsql
set search_path = ''
as $$
declare
  removed bigint;
begin
  delete from public.rate_limit_counters where window_start < now() - interval '1 hour';
  get diagnostics removed = row_count;
  return removed;
end
$$;

revoke execute on function private.record_webhook_rejection(text), private.take_rate_limit(text, integer, integer),
  private.trim_rate_limit_counters() from public, anon, authenticated;
grant execute on function private.record_webhook_rejection(text), private.take_rate_limit(text, integer, integer)
  to service_role;

select cron.schedule('churn-saver-trim-rate-limits', '*/10 * * * *', 'select private.trim_rate_limit_counters()');
