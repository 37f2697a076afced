-- Recording clicks on tracked recovery links (the dashboard's GET /r/<token>), and where a click
-- sends the member: the payment's recovery_url, else the membership's manage_url. Only http(s)
-- addresses qualify, so junk stored from a webhook is skipped rather than redirected to.

-- Where a link of the case leads, or null (unknown case, or no usable address). Also answers HEAD
-- requests, which record nothing.
create or replace function private.link_destination(p_case_id uuid) returns text
language sql stable
set search_path = ''
as $$
  select coalesce(
    case when rc.recovery_url ~* '^https?://[^[:space:]]+$' then rc.recovery_url end,
    case when rc.manage_url ~* '^https?://[^[:space:]]+$' then rc.manage_url end)
  from public.recovery_cases rc
  where rc.id = p_case_id
$$;

-- Records one click (company from the case; the job only if it belongs to the case, since jobs may
-- be purged before their links expire) and returns the destination. An unknown case records nothing
-- and returns null. Bot clicks are kept for the numbers but never count for attribution.
create or replace function private.record_link_click(p_case_id uuid, p_job_id bigint, p_ip_hash text, p_is_bot boolean)
returns text
language plpgsql
set search_path = ''
as $$
begin
  insert into public.link_clicks (company_id, case_id, job_id, ip_hash, is_bot)
  select rc.company_id, rc.id,
         (select j.id from public.job_queue j where j.id = p_job_id and j.case_id = rc.id),
         p_ip_hash, coalesce(p_is_bot, false)
  from public.recovery_cases rc
  where rc.id = p_case_id;
  if not found then
    return null;
  end if;
  return private.link_destination(p_case_id);
end
$$;

revoke execute on function private.link_destination(uuid), private.record_link_click(uuid, bigint, text, boolean)
from public, anon, authenticated;
grant execute on function private.link_destination(uuid), private.record_link_click(uuid, bigint, text, boolean)
to service_role;
