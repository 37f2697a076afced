-- Privileges by default: the API roles get nothing in public or private unless a migration grants
-- it, although the (Supabase-like) bootstrap grants everything in public to them by default.
begin;
select plan(7);

create table public.privileges_probe (id int, created_at timestamptz default now());
create function public.privileges_probe_fn() returns int language sql as 'select 1';

select ok(not has_table_privilege('anon', 'public.privileges_probe', 'select'), 'a new table is not readable by anon');
select ok(not has_table_privilege('authenticated', 'public.privileges_probe', 'select'),
  'a new table is not readable by authenticated until granted');
select ok(not has_function_privilege('anon', 'public.privileges_probe_fn()', 'execute'),
  'a new function is not executable by anon');
select ok(not has_function_privilege('authenticated', 'public.privileges_probe_fn()', 'execute'),
  'a new function is not executable by authenticated until granted');

select is(
  (select array_agg(p.oid::regprocedure::text order by 1)
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname in ('public', 'private') and has_function_privilege('anon', p.oid, 'execute')),
  null, 'anon can execute no function in public or private');
select ok(not has_schema_privilege('authenticated', 'private', 'usage'), 'authenticated cannot use the private schema');
select is(
  (select array_agg(p.oid::regprocedure::text order by 1)
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname = 'private' and p.prosecdef and not (p.proconfig @> array['search_path=""'])),
  null, 'every security definer function in private pins search_path to empty');

select * from finish();
rollback;
