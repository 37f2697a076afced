-- private.company_installed: whether a company has a row in public.companies, answered before the
-- dashboard knows who is asking (so it must see past RLS) and callable by no API role.
begin;
select plan(6);

insert into public.companies (company_id) values ('biz_installed_probe');

select ok(private.company_installed('biz_installed_probe'), 'a company with a row is installed');
select ok(not private.company_installed('biz_never_installed_probe'), 'a company without one is not');
select ok(not private.company_installed(''), 'nor is an empty id');

-- As the dashboard's tenant role with another company's claims, RLS hides the row; the function still sees it.
set local role authenticated;
select set_config('request.jwt.claims', '{"role": "authenticated", "company_id": "biz_other_probe"}', true);
select is((select count(*)::int from public.companies where company_id = 'biz_installed_probe'), 0,
  'RLS hides the row from another tenant');
reset role;

select ok(not has_function_privilege('authenticated', 'private.company_installed(text)', 'execute')
  and not has_function_privilege('anon', 'private.company_installed(text)', 'execute'),
  'no API role may call it');
select ok(has_function_privilege('service_role', 'private.company_installed(text)', 'execute'),
  'the service role may');

select * from finish();
rollback;
