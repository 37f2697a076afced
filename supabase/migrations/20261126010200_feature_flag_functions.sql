-- Flag evaluation (ARCHITECTURE section 6), in one place for SQL and application code alike.
-- A flag is on for a company when it is enabled and the company is on its allow-list or inside its
-- rollout percentage (a stable hash of the company id). ROLLBACK_MODE forces every other flag off.

create or replace function private.company_bucket(p_company_id text) returns integer
language sql immutable
set search_path = ''
as $$
  -- 0..99, the same for a company on every call and every server.
  select (abs(hashtextextended(p_company_id, 0)) % 100)::integer
$$;

create or replace function private.flag_enabled(p_name text, p_company_id text default null) returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce((
    select f.enabled
       and (p_company_id is null
            or p_company_id = any (f.company_allowlist)
            or private.company_bucket(p_company_id) < f.rollout_percent)
       and (p_name = 'ROLLBACK_MODE'
            or not exists (select 1 from public.feature_flags r where r.name = 'ROLLBACK_MODE' and r.enabled))
    from public.feature_flags f
    where f.name = p_name
  ), false)
$$;

revoke execute on function private.company_bucket(text), private.flag_enabled(text, text) from public, anon, authenticated;
grant execute on function private.company_bucket(text), private.flag_enabled(text, text) to service_role;
