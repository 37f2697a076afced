-- public.nudge_pause (20261208000300_nudge_pause.sql): why a company's nudges are not going out, by the
-- dispatcher's rules and in its order, and a tenant may only ask about its own company.
begin;
select plan(7);

insert into public.companies (company_id) values ('biz_pause_a'), ('biz_pause_b');
insert into public.company_settings (company_id) values ('biz_pause_a'), ('biz_pause_b');
update public.feature_flags set enabled = true, rollout_percent = 100, company_allowlist = '{}'
where name in ('SCHEDULER_ENABLED', 'NOTIFICATIONS_ENABLED');
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';

select is(public.nudge_pause('biz_pause_a'), null, 'nothing holds the nudges back');
update public.company_settings set nudges_paused = true where company_id = 'biz_pause_a';
select is(public.nudge_pause('biz_pause_a'), 'paused_by_creator', 'the creator paused them');
update public.feature_flags set rollout_percent = 0, company_allowlist = array['biz_pause_b']
where name = 'NOTIFICATIONS_ENABLED';
update public.company_settings set nudges_paused = false where company_id = 'biz_pause_a';
select is(public.nudge_pause('biz_pause_a'), 'notifications_off', 'notifications do not cover the company');
select is(public.nudge_pause('biz_pause_b'), null, '... but do cover the allow-listed one');
update public.feature_flags set enabled = true where name = 'ROLLBACK_MODE';
select is(public.nudge_pause('biz_pause_b'), 'scheduler_off', 'rollback holds the schedule for everyone');
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';

-- As the dashboard asks it: role authenticated, the viewer's company in the claims.
select set_config('request.jwt.claims', '{"role": "authenticated", "company_id": "biz_pause_b"}', true);
set local role authenticated;
select is(public.nudge_pause('biz_pause_b'), null, 'a tenant asks about its own company');
select throws_ok($$select public.nudge_pause('biz_pause_a')$$, '42501', null, '... and not about another');
reset role;
rollback;
