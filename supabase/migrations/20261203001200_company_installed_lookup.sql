-- Whether a company has installed Churn Saver, for the dashboard's authentication (issue 11 item 5):
-- a request for a company with no row in public.companies (made by its first webhook) is refused
-- before any Whop access check is spent on it. The question is asked before the viewer is known,
-- outside the tenant transaction, so it is a security definer function that answers a boolean only.
create function private.company_installed(p_company_id text) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.companies where company_id = p_company_id)
$$;

revoke execute on function private.company_installed(text) from public, anon, authenticated;
grant execute on function private.company_installed(text) to service_role;
