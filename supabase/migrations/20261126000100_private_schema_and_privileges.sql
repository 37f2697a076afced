-- Private schema and default privileges.
-- Nothing in `public` is reachable by the API roles unless a migration grants it explicitly:
-- Supabase grants new tables and functions to anon/authenticated by default, which this project
-- never wants. Helpers that need elevated rights live in `private` (security definer,
-- search_path = '').

create schema if not exists private;
revoke all on schema private from public, anon, authenticated;
grant usage on schema private to service_role;

-- Postgres itself lets PUBLIC execute every new function; only a global default can take that back
-- (per-schema defaults only add). The per-schema lines undo Supabase's grants to the API roles.
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke all on tables from public, anon, authenticated;
alter default privileges in schema public revoke all on sequences from public, anon, authenticated;
alter default privileges in schema public revoke execute on functions from public, anon, authenticated;
alter default privileges in schema private revoke execute on functions from public, anon, authenticated;

-- Keeps `updated_at` honest without trusting callers to set it.
create or replace function private.set_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
revoke execute on function private.set_updated_at() from public;

-- Time zones are validated against Postgres' own list so that "send at 10:00 local" always resolves.
create or replace function private.is_valid_time_zone(tz text) returns boolean
language sql stable
set search_path = ''
as $$
  select exists (select 1 from pg_catalog.pg_timezone_names where name = tz)
$$;
grant execute on function private.is_valid_time_zone(text) to authenticated, service_role;

-- Every tenant table gets the same guard: RLS enabled and forced (so even the table owner's
-- sessions obey it), and one policy for `authenticated` scoped by the verified company claim.
-- One function applies it, so no table can end up with a slightly different copy.
create or replace function private.apply_tenant_rls(target regclass) returns void
language plpgsql
set search_path = ''
as $$
begin
  execute format('alter table %s enable row level security', target);
  execute format('alter table %s force row level security', target);
  execute format('drop policy if exists tenant_isolation on %s', target);
  execute format(
    'create policy tenant_isolation on %s for all to authenticated '
    'using (company_id = (select auth.jwt() ->> ''company_id'')) '
    'with check (company_id = (select auth.jwt() ->> ''company_id''))',
    target);
end
$$;
revoke execute on function private.apply_tenant_rls(regclass) from public, anon, authenticated;
