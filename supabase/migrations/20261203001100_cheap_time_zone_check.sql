-- A time-zone check that does not read the time-zone files (issue 12). The CHECK constraint
-- company_settings_time_zone_valid called private.is_valid_time_zone, which scanned
-- pg_timezone_names: Postgres builds that view by reading every zone file on disk, ~20-40 ms of CPU
-- per call, paid by every insert into company_settings (also `on conflict do nothing`, which checks
-- the row before it finds the conflict) and by every settings save.
--
-- The known names are now copied once into a table and looked up by primary key. A name the copy
-- does not know (an invalid one, or a zone added by a later tzdata than the one this migration saw)
-- still gets the full scan, so the answer is exactly what pg_timezone_names says; only the common
-- case got cheap. Abbreviations and POSIX strings (`pst`, `UTC+5`, `XYZ3`) that `at time zone` would
-- accept stay refused, as before: the dashboard and the scheduler only understand zone names.
-- Owner-only table behind a security definer function: the API roles neither read nor need it.

create table private.time_zone_names (
  name text primary key
);
revoke all on private.time_zone_names from public, anon, authenticated, service_role;

insert into private.time_zone_names (name)
select name from pg_catalog.pg_timezone_names
on conflict (name) do nothing;

create or replace function private.is_valid_time_zone(tz text) returns boolean
language plpgsql stable
security definer
set search_path = ''
as $$
begin
  if tz is null then
    return false;
  end if;
  if exists (select 1 from private.time_zone_names where name = tz) then
    return true;
  end if;
  -- Not in the copy: the authoritative (slow) answer.
  return exists (select 1 from pg_catalog.pg_timezone_names where name = tz);
end
$$;

revoke execute on function private.is_valid_time_zone(text) from public, anon;
grant execute on function private.is_valid_time_zone(text) to authenticated, service_role;
