-- Why a company's nudges are not going out right now, for the dashboard's paused banner (issue 13):
-- the conditions public.claim_due_jobs applies (20261207000100_claim_due_jobs_cheaper.sql), asked in
-- SQL so the page says what the dispatcher does, not a copy of its rules. One word, or null when due
-- nudges are sent:
--   scheduler_off      SCHEDULER_ENABLED does not cover the company (or ROLLBACK_MODE is on): due
--                      nudges wait, unclaimed, and go out when it is back;
--   paused_by_creator  company_settings.nudges_paused: due nudges are suppressed, never sent;
--   notifications_off  NOTIFICATIONS_ENABLED does not cover the company: suppressed too.
-- Security definer (the flags are private); a tenant may ask about its own company only.
create or replace function public.nudge_pause(p_company_id text) returns text
language plpgsql stable security definer
set search_path = ''
as $$
begin
  if auth.role() = 'authenticated' and p_company_id is distinct from (auth.jwt() ->> 'company_id') then
    raise exception 'nudge_pause: not this tenant''s company' using errcode = '42501';
  end if;
  return case
    when not private.flag_enabled('SCHEDULER_ENABLED', p_company_id) then 'scheduler_off'
    when (select s.nudges_paused from public.company_settings s where s.company_id = p_company_id)
      then 'paused_by_creator'
    when not private.flag_enabled('NOTIFICATIONS_ENABLED', p_company_id) then 'notifications_off'
  end;
end
$$;

revoke execute on function public.nudge_pause(text) from public, anon, authenticated;
grant execute on function public.nudge_pause(text) to authenticated, service_role;
