-- Rejected webhooks counted in batches (issue 11 item 4). The function counted every refused request
-- with its own call of private.record_webhook_rejection: two upserts of the same two rows per request,
-- so a flood of forged requests queued on those rows' locks and took database connections from
-- Whop's genuine deliveries. The function now adds up its rejections in memory and writes them
-- with this function at most about once a second: one call per reason set, whatever the request
-- rate. Same tables and meaning as before (daily webhook_rejections, per-minute webhook_counters),
-- so the ops health, metrics and alerts read them unchanged.
-- Rows are written in reason order so two concurrent flushes lock them in the same order.

create or replace function private.record_webhook_rejections(p_counts jsonb) returns void
language sql
set search_path = ''
as $$
  with counts as (
    select key as reason, value::bigint as n
    from jsonb_each_text(p_counts)
    where value::bigint > 0
  ),
  daily as (
    insert into public.webhook_rejections as r (reason, count)
    select reason, n from counts order by reason
    on conflict (day, reason) do update set count = r.count + excluded.count, updated_at = now()
  )
  insert into public.webhook_counters as w (minute, kind, reason, count)
  select date_trunc('minute', now()), 'rejected', reason, n from counts order by reason
  on conflict (minute, kind, reason) do update set count = w.count + excluded.count, updated_at = now()
$$;

revoke execute on function private.record_webhook_rejections(jsonb) from public, anon, authenticated;
grant execute on function private.record_webhook_rejections(jsonb) to service_role;
