-- pg_cron and its own housekeeping.
-- cron.job_run_details grows by one row per job run (every minute for the scheduler jobs that
-- later migrations add); keep a week of it, which is what health checks and incident reviews use.

create extension if not exists pg_cron;

create or replace function private.trim_cron_history(keep interval default interval '7 days') returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  removed bigint;
begin
  delete from cron.job_run_details where end_time < now() - keep;
  get diagnostics removed = row_count;
  return removed;
end
$$;
revoke execute on function private.trim_cron_history(interval) from public, anon, authenticated;
grant execute on function private.trim_cron_history(interval) to service_role;

-- cron.schedule with a job name replaces an existing job of that name, so re-running is harmless.
select cron.schedule('churn-saver-trim-cron-history', '17 * * * *', 'select private.trim_cron_history()');
