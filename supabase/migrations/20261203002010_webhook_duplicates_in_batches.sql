-- Duplicates counted in batches (issue 12 item 3). public.ingest_webhook_event no longer counts a
-- redelivery (20261203002000_ingest_duplicates_first.sql): every one of them upserted the same
-- per-minute row of webhook_counters, so concurrent duplicates queued on its lock. The whop-webhook
-- function adds up the duplicates it answered in memory and writes the sum with this function about
-- once a second (whop-webhook/guards.ts, like the rejections). Same row and meaning as before
-- (kind 'duplicate', reason '', the current minute), so public.ops_webhook_figures reads it unchanged.
-- private.count_webhook stays for anything that still counts one at a time.

create or replace function private.record_webhook_duplicates(p_count bigint) returns void
language sql
set search_path = ''
as $$
  insert into public.webhook_counters as w (minute, kind, reason, count)
  select date_trunc('minute', now()), 'duplicate', '', p_count
  where p_count > 0
  on conflict (minute, kind, reason) do update set count = w.count + excluded.count, updated_at = now()
$$;

revoke execute on function private.record_webhook_duplicates(bigint) from public, anon, authenticated;
grant execute on function private.record_webhook_duplicates(bigint) to service_role;
