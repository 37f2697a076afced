-- private.install_company (the dashboard's first visit of a verified admin) and the set-up choice
-- columns: the company is made with default settings and no choices recorded, a second call and a
-- later webhook change nothing, and no API role may call it.
begin;
select plan(10);

select ok(private.install_company('biz_install_probe'), 'the first call makes the company');
select ok(private.company_installed('biz_install_probe'), 'which is then installed');
select is((select incentive_free_days::int from public.company_settings where company_id = 'biz_install_probe'), 3,
  'with the default settings row');
select ok((select time_zone_chosen_at is null and incentive_chosen_at is null
           from public.company_settings where company_id = 'biz_install_probe'),
  'and no set-up choice recorded');

update public.company_settings set time_zone = 'Europe/Paris', incentive_chosen_at = now()
where company_id = 'biz_install_probe';
select ok(not private.install_company('biz_install_probe'), 'a second call says it already existed');
select is((select time_zone from public.company_settings where company_id = 'biz_install_probe'), 'Europe/Paris',
  'and leaves the settings as they are');

-- The first webhook afterwards keeps the creator's settings and fills in the title.
select public.ingest_webhook_event(jsonb_build_object(
  'id', 'msg_install_probe', 'company_id', 'biz_install_probe', 'company_title', 'Probe Co',
  'type', 'payment.succeeded', 'raw_type', 'payment.succeeded', 'api_version', 'v1',
  'occurred_at', now()::text), false);
select is((select time_zone || ' ' || (incentive_chosen_at is not null)::text
           from public.company_settings where company_id = 'biz_install_probe'), 'Europe/Paris true',
  'the first webhook keeps the settings chosen before it');
select is((select title from public.companies where company_id = 'biz_install_probe'), 'Probe Co',
  'and fills in the title');

select throws_ok($$select private.install_company('not-a-company')$$, '23514', null,
  'an id that is not a Whop company id is refused');

select ok(not has_function_privilege('authenticated', 'private.install_company(text)', 'execute')
  and not has_function_privilege('anon', 'private.install_company(text)', 'execute')
  and has_function_privilege('service_role', 'private.install_company(text)', 'execute'),
  'only the service role may call it');

select * from finish();
rollback;
