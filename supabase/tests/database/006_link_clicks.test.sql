-- Recording clicks on tracked recovery links (private.record_link_click), where they send the
-- member (private.link_destination), who may call them, and how clicks count for attribution.
begin;
select plan(23);

insert into public.companies (company_id, title) values ('biz_click_a', 'A'), ('biz_click_b', 'B');
insert into public.recovery_cases (id, company_id, membership_id, reason, opened_at, recovery_url, manage_url)
values
  ('00000000-0000-4000-8000-0000000c0001', 'biz_click_a', 'mem_both', 'payment_failed', now() - interval '2 hours',
   'https://whop.com/pay/recover', 'https://whop.com/manage/mem_both'),
  ('00000000-0000-4000-8000-0000000c0002', 'biz_click_b', 'mem_manage', 'payment_failed', now() - interval '2 hours',
   null, 'https://whop.com/manage/mem_manage'),
  ('00000000-0000-4000-8000-0000000c0003', 'biz_click_a', 'mem_none', 'payment_failed', now() - interval '2 hours',
   null, null),
  ('00000000-0000-4000-8000-0000000c0004', 'biz_click_a', 'mem_junk', 'payment_failed', now() - interval '2 hours',
   'javascript:alert(1)', 'https://whop.com/manage/mem_junk'),
  ('00000000-0000-4000-8000-0000000c0005', 'biz_click_a', 'mem_bot', 'payment_failed', now() - interval '2 hours',
   'https://whop.com/pay/bot', null);
insert into public.job_queue (case_id, company_id, channel, step, scheduled_for)
values ('00000000-0000-4000-8000-0000000c0001', 'biz_click_a', 'push', 0, now() - interval '2 hours'),
       ('00000000-0000-4000-8000-0000000c0002', 'biz_click_b', 'push', 0, now() - interval '2 hours');

create function pg_temp.clicks(p_case uuid) returns bigint language sql as
  $$ select count(*) from public.link_clicks where case_id = p_case $$;
create function pg_temp.job_of(p_case uuid) returns bigint language sql as
  $$ select id from public.job_queue where case_id = p_case limit 1 $$;

-- Destination and the recorded row.
select is(private.record_link_click('00000000-0000-4000-8000-0000000c0001',
                                    pg_temp.job_of('00000000-0000-4000-8000-0000000c0001'), 'ab12', false),
  'https://whop.com/pay/recover', 'a click goes to the payment''s recovery_url first');
select is(pg_temp.clicks('00000000-0000-4000-8000-0000000c0001'), 1::bigint, '... and is recorded once');
select is((select company_id from public.link_clicks where case_id = '00000000-0000-4000-8000-0000000c0001'),
  'biz_click_a', '... with the case''s company');
select is((select job_id from public.link_clicks where case_id = '00000000-0000-4000-8000-0000000c0001'),
  pg_temp.job_of('00000000-0000-4000-8000-0000000c0001'), '... the job that carried the link');
select is((select ip_hash from public.link_clicks where case_id = '00000000-0000-4000-8000-0000000c0001'),
  'ab12', '... the address hash');
select is((select is_bot from public.link_clicks where case_id = '00000000-0000-4000-8000-0000000c0001'),
  false, '... and not as a bot');

select is(private.record_link_click('00000000-0000-4000-8000-0000000c0002', null, null, false),
  'https://whop.com/manage/mem_manage', 'without a recovery_url the click goes to the membership''s manage_url');
select is((select company_id from public.link_clicks where case_id = '00000000-0000-4000-8000-0000000c0002'),
  'biz_click_b', '... recorded with that case''s company');
select is((select job_id from public.link_clicks where case_id = '00000000-0000-4000-8000-0000000c0002'),
  null::bigint, '... without a job when the link had none');

select is(private.record_link_click('00000000-0000-4000-8000-0000000c0003', null, null, false), null,
  'a case with nowhere to send the member returns null');
select is(pg_temp.clicks('00000000-0000-4000-8000-0000000c0003'), 1::bigint, '... and still records the click');

select is(private.record_link_click('00000000-0000-4000-8000-0000000c0004', null, null, false),
  'https://whop.com/manage/mem_junk', 'a recovery_url that is not http(s) is skipped for the manage_url');

-- A job id that is unknown or belongs to another case is not recorded (and does not fail).
select is(private.record_link_click('00000000-0000-4000-8000-0000000c0002',
                                    pg_temp.job_of('00000000-0000-4000-8000-0000000c0001'), null, false),
  'https://whop.com/manage/mem_manage', 'a job of another case does not stop the click');
select is((select count(*) from public.link_clicks
           where case_id = '00000000-0000-4000-8000-0000000c0002' and job_id is not null), 0::bigint,
  '... and is not recorded against this case');
select lives_ok($$ select private.record_link_click('00000000-0000-4000-8000-0000000c0002', 999999999, null, false) $$,
  'an unknown (purged) job id does not fail');

-- Unknown case.
select is(private.record_link_click('00000000-0000-4000-8000-0000000cffff', null, 'ab12', false), null,
  'an unknown case returns null');
select is(pg_temp.clicks('00000000-0000-4000-8000-0000000cffff'), 0::bigint, '... and records nothing');

-- Bots, and attribution.
select is(private.record_link_click('00000000-0000-4000-8000-0000000c0005', null, null, true),
  'https://whop.com/pay/bot', 'a bot click is still sent on');
select is((select is_bot from public.link_clicks where case_id = '00000000-0000-4000-8000-0000000c0005'),
  true, '... and recorded as a bot');
select is(private.case_attribution('00000000-0000-4000-8000-0000000c0005', now()), 'organic',
  'a bot click alone never makes a recovery click-through');
select is(private.case_attribution('00000000-0000-4000-8000-0000000c0001', now()), 'click_through',
  'a person''s click before the recovery makes it click-through');
select is(private.case_attribution('00000000-0000-4000-8000-0000000c0001', now() - interval '1 minute'), 'organic',
  '... but not a recovery before the click');

-- Only the service role may call them.
select ok(
  not has_function_privilege('authenticated', 'private.record_link_click(uuid, bigint, text, boolean)', 'execute')
  and not has_function_privilege('anon', 'private.record_link_click(uuid, bigint, text, boolean)', 'execute')
  and not has_function_privilege('authenticated', 'private.link_destination(uuid)', 'execute')
  and has_function_privilege('service_role', 'private.record_link_click(uuid, bigint, text, boolean)', 'execute')
  and has_function_privilege('service_role', 'private.link_destination(uuid)', 'execute'),
  'only service_role may record clicks and look up destinations');

select * from finish();
rollback;
