-- Row-level security is enabled and forced on every table in public, every tenant table has a
-- policy for `authenticated` scoped by the company_id claim, and the column it filters on is
-- indexed. The checks read the catalog, so a table added later is covered without editing this file.
begin;

create function pg_temp.rls_checks() returns setof text language plpgsql as $$
declare
  t record;
  tenant_tables int := 0;
begin
  for t in
    select c.oid, c.relname::text as name, c.relrowsecurity, c.relforcerowsecurity,
           exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'company_id' and not a.attisdropped) as tenant
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p')
    order by c.relname
  loop
    return next ok(t.relrowsecurity, format('%s: row level security is enabled', t.name));
    return next ok(t.relforcerowsecurity, format('%s: row level security is forced', t.name));
    return next ok(
      not has_table_privilege('anon', t.oid, 'select, insert, update, delete, truncate, references, trigger'),
      format('%s: anon has no privilege', t.name));
    if t.tenant then
      tenant_tables := tenant_tables + 1;
      return next ok(
        exists (select 1 from pg_policies p
                where p.schemaname = 'public' and p.tablename = t.name and p.roles = '{authenticated}'
                  and p.cmd = 'ALL'
                  and p.qual like '%company_id = ( SELECT (auth.jwt() ->> ''company_id''::text))%'
                  and p.with_check like '%company_id = ( SELECT (auth.jwt() ->> ''company_id''::text))%'),
        format('%s: a policy for authenticated compares company_id with the JWT claim', t.name));
      return next ok(
        not exists (select 1 from pg_policies p
                    where p.schemaname = 'public' and p.tablename = t.name and not (p.roles <@ '{authenticated}')),
        format('%s: no policy is granted to any other role', t.name));
      return next ok(
        exists (select 1 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
                where i.indrelid = t.oid and a.attname = 'company_id'),
        format('%s: an index leads with company_id', t.name));
    end if;
  end loop;
  return next cmp_ok(tenant_tables, '>=', 7, 'the tenant tables were found');
end
$$;

select plan((
  select (3 * count(*) + 3 * count(*) filter (where exists (
            select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'company_id' and not a.attisdropped)) + 1)::int
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p')));
select * from pg_temp.rls_checks();
select * from finish();
rollback;
