-- Where a member's link and push tap lead when Whop's events named no destination: a manage_url
-- fetched from Whop and kept with the case (private.remember_manage_url), found by
-- private.cases_without_destination, used last by private.link_destination; and taps in the
-- experience view, recorded only for the case's own member (private.record_member_click).
begin;
select plan(15);

insert into public.companies (company_id, title) values ('biz_dest_a', 'Ana Yoga');
insert into public.recovery_cases (id, company_id, membership_id, user_id, reason, opened_at, recovery_url, manage_url)
values
  ('00000000-0000-4000-8000-0000000d0001', 'biz_dest_a', 'mem_d1', 'user_d1', 'payment_failed', now(), null, null),
  ('00000000-0000-4000-8000-0000000d0002', 'biz_dest_a', 'mem_d2', 'user_d2', 'payment_failed', now(),
   null, 'https://whop.com/manage/mem_d2');

select is((select array_agg(case_id) from private.cases_without_destination(
    array['00000000-0000-4000-8000-0000000d0001', '00000000-0000-4000-8000-0000000d0002']::uuid[])),
  array['00000000-0000-4000-8000-0000000d0001']::uuid[], 'only the case without a destination needs a lookup');
select is(private.remember_manage_url('00000000-0000-4000-8000-0000000d0001', 'javascript:alert(1)'), false,
  'a non-http address from Whop is not kept');
select is(private.link_destination('00000000-0000-4000-8000-0000000d0001'), null, '... and leads nowhere');
select is((select count(*) from private.cases_without_destination(array['00000000-0000-4000-8000-0000000d0001']::uuid[])),
  0::bigint, '... and Whop''s answer is remembered: the case is not looked up again');
update public.recovery_cases set manage_url_looked_up_at = null where id = '00000000-0000-4000-8000-0000000d0001';
select is(private.remember_manage_url('00000000-0000-4000-8000-0000000d0001', 'https://whop.com/manage/mem_d1'), true,
  'an http(s) manage_url is kept with the case');
select is(private.link_destination('00000000-0000-4000-8000-0000000d0001'), 'https://whop.com/manage/mem_d1',
  '... and is where its links lead');
select is((select count(*) from private.cases_without_destination(array['00000000-0000-4000-8000-0000000d0001']::uuid[])),
  0::bigint, '... and it is not looked up again');
select is(private.remember_manage_url('00000000-0000-4000-8000-0000000d0002', 'https://whop.com/other'), true,
  'a case with an event''s manage_url may also keep one');
select is(private.link_destination('00000000-0000-4000-8000-0000000d0002'), 'https://whop.com/manage/mem_d2',
  '... but the event''s own destination comes first');

select is(private.record_member_click('00000000-0000-4000-8000-0000000d0001', 'user_someone_else', false),
  '{"found": false}'::jsonb, 'another user''s tap finds nothing');
select is((select count(*) from public.link_clicks where case_id = '00000000-0000-4000-8000-0000000d0001'), 0::bigint,
  '... and records nothing');
select is(private.record_member_click('00000000-0000-4000-8000-0000000d0001', 'user_d1', false),
  '{"found": true, "destination": "https://whop.com/manage/mem_d1", "company_title": "Ana Yoga"}'::jsonb,
  'the member''s own tap gets the destination and the creator''s name');
select is((select count(*) from public.link_clicks where case_id = '00000000-0000-4000-8000-0000000d0001'), 1::bigint,
  '... and is recorded as a click');
select is((select led_nowhere from public.link_clicks where case_id = '00000000-0000-4000-8000-0000000d0001'), false,
  '... that led to the destination');
update public.recovery_cases set fetched_manage_url = null where id = '00000000-0000-4000-8000-0000000d0001';
select private.record_link_click('00000000-0000-4000-8000-0000000d0001', null, null, false);
select is((select count(*) from public.link_clicks where case_id = '00000000-0000-4000-8000-0000000d0001' and led_nowhere),
  1::bigint, 'a click while the case has nowhere to go is recorded as having led nowhere');

select * from finish();
rollback;
