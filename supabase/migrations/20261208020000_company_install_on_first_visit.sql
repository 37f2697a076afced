-- A company installed on its creator's first dashboard visit (issue 13, onboarding).
--
-- Until now a company existed only once its first webhook had arrived (ingest_webhook_event makes the
-- companies and company_settings rows), so a brand-new company could not save settings and its first
-- at-risk members got defaults nobody chose. "Installed" still means "has a row in public.companies"
-- (private.company_installed, 20261203001200_company_installed_lookup.sql), but the dashboard may now
-- make that row: private.install_company, called only after Whop has confirmed that the visitor is an
-- admin of the company (web/lib/whop_auth.ts), inserts both rows as the first webhook would. Ingest
-- then finds them and leaves them alone (it only fills a missing title).
--
-- Returns true when this call made the company, false when it already existed. Security definer: the
-- dashboard's tenant role may not insert companies (grants and RLS keep it to reading its own row).
create function private.install_company(p_company_id text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_created boolean;
begin
  insert into public.companies (company_id) values (p_company_id)
  on conflict (company_id) do nothing;
  v_created := found;
  insert into public.company_settings (company_id) values (p_company_id)
  on conflict (company_id) do nothing;
  return v_created;
end
$$;

revoke execute on function private.install_company(text) from public, anon, authenticated;
grant execute on function private.install_company(text) to service_role;
