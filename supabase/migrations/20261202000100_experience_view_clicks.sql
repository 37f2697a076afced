-- The app's experience view (/experiences/<experience id>/recover/<case id>), where Whop opens the
-- `rest_path` of a push notification for the member who tapped it. A tap counts as a click of the
-- case's recovery link, but only for the case's own member: the verified Whop user must be the
-- case's user, so nobody can record clicks on, or learn the destination of, another member's case.

-- `found` false: no such case for this user (nothing recorded). Otherwise the click is recorded and
-- `destination` is where the case's links lead (null when Whop gave none) and `company_title` the
-- creator's name, for the page shown when there is nowhere to go.
create or replace function private.record_member_click(p_case_id uuid, p_user_id text, p_is_bot boolean)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_company text;
begin
  insert into public.link_clicks (company_id, case_id, job_id, ip_hash, is_bot)
  select rc.company_id, rc.id, null, null, coalesce(p_is_bot, false)
  from public.recovery_cases rc
  where rc.id = p_case_id and rc.user_id = p_user_id
  returning company_id into v_company;
  if v_company is null then
    return jsonb_build_object('found', false);
  end if;
  return jsonb_build_object(
    'found', true,
    'destination', private.link_destination(p_case_id),
    'company_title', (select c.title from public.companies c where c.company_id = v_company));
end
$$;

revoke execute on function private.record_member_click(uuid, text, boolean) from public, anon, authenticated;
grant execute on function private.record_member_click(uuid, text, boolean) to service_role;
