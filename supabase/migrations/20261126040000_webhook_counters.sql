-- Webhook delivery counters per minute, for the ops health, metrics and alerts (web/ops): duplicates
-- (a redelivery of a stored event, otherwise invisible) and rejections by reason. Counts only, never
-- payloads. Per minute so that rates cover exactly the last hour; kept 7 days (a cron job trims).
-- The daily `webhook_rejections` table stays as it is. Not tenant data: RLS is forced with no policy.
-- Duplicates are counted by public.ingest_webhook_event, re-created once for this release in
-- 20261126040105_event_product_titles.sql.

create table public.webhook_counters (
  minute timestamptz not null,
  kind text not null constraint webhook_counters_kind_valid check (kind in ('duplicate', 'rejected')),
  -- The rejection reason; '' for duplicates.
  reason text not null default '' constraint webhook_counters_reason_length check (char_length(reason) <= 50),
  count bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (minute, kind, reason)
);

alter table public.webhook_counters enable row level security;
alter table public.webhook_counters force row level security;
revoke all on public.webhook_counters from public, anon, authenticated;
grant all on public.webhook_counters to service_role;

create or replace function private.count_webhook(p_kind text, p_reason text default '') returns void
language sql
set search_path = ''
as $$
  insert into public.webhook_counters as w (minute, kind, reason, count)
  values (date_trunc('minute', now()), p_kind, coalesce(p_reason, ''), 1)
  on conflict (minute, kind, reason) do update set count = w.count + 1, updated_at = now()
$$;

create or replace function private.trim_webhook_counters(keep interval default interval '7 days') returns bigint
language plpgsql
set search_path = ''
as $$
declare
  removed bigint;
begin
  delete from public.webhook_counters where minute < now() - keep;
  get diagnostics removed = row_count;
  return removed;
end
$$;

revoke execute on function private.count_webhook(text, text), private.trim_webhook_counters(interval)
  from public, anon, authenticated;
grant execute on function private.count_webhook(text, text), private.trim_webhook_counters(interval) to service_role;

-- Unchanged from 20261126010100_webhook_guards.sql but for the per-minute count.
create or replace function private.record_webhook_rejection(p_reason text) returns void
language sql
set search_path = ''
as $$
  insert into public.webhook_rejections as r (reason, count) values (p_reason, 1)
  on conflict (day, reason) do update set count = r.count + 1, updated_at = now();
  select private.count_webhook('rejected', p_reason);
$$;

select cron.schedule('churn-saver-trim-webhook-counters', '23 * * * *', 'select private.trim_webhook_counters()');
