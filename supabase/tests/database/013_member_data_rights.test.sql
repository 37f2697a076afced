-- Export and erasure of one member's data: found by user id or by email blind index, across
-- companies; erasure leaves no row mentioning the member and touches nobody else; both audited
-- with counts only; only the service role may call them.
begin;
select plan(17);

update public.feature_flags set enabled = true, rollout_percent = 100 where name = 'WEBHOOK_PROCESSING_ENABLED';
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';

create function pg_temp.ingest(p_id text, p_company text, p_type text, p_membership text, p_user text, p_index text)
returns void
language sql as $$
  select public.ingest_webhook_event(jsonb_build_object(
    'id', p_id, 'company_id', p_company, 'type', p_type, 'raw_type', p_type, 'api_version', 'v1',
    'occurred_at', now() - interval '1 hour', 'membership_id', p_membership, 'user_id', p_user,
    'payload_ciphertext', 'v1.k1.iv.payload_' || p_id,
    'member', jsonb_build_object('email_ciphertext', 'v1.k1.iv.email_' || p_user, 'email_blind_index', p_index)));
$$;

-- The member has a membership in two companies; another member shares a company with them.
select pg_temp.ingest('dsr_1', 'biz_dsr_a', 'payment.failed', 'mem_dsr_1', 'user_dsr', 'k1.dsr_index');
select pg_temp.ingest('dsr_2', 'biz_dsr_b', 'payment.failed', 'mem_dsr_2', 'user_dsr', 'k1.dsr_index_b');
-- A deactivation of their membership that names no user.
insert into public.events (id, company_id, type, raw_type, api_version, membership_id, occurred_at)
values ('dsr_3', 'biz_dsr_a', 'membership.deactivated', 'membership.deactivated', 'v1', 'mem_dsr_1', now());
select pg_temp.ingest('dsr_other', 'biz_dsr_a', 'payment.failed', 'mem_dsr_other', 'user_other', 'k1.other_index');
insert into public.link_clicks (company_id, case_id)
select company_id, id from public.recovery_cases where company_id like 'biz_dsr_%';
insert into public.notification_attempts (job_id, company_id, status)
select id, company_id, 'sent' from public.job_queue where company_id like 'biz_dsr_%' and step = 0 and channel = 'push';
select private.dismiss_case('biz_dsr_a', id, 'user_admin') from public.recovery_cases where membership_id = 'mem_dsr_1';

-- Export by email (blind index of one company finds the user everywhere).
create temp table exported as select private.export_member_data(null, array['k1.dsr_index', 'k2.unused'], 'ops@test') as doc;
select is((select doc -> 'user_ids' from exported), '["user_dsr"]'::jsonb, 'the blind index finds the member''s user id');
select is((select doc -> 'counts' from exported),
  '{"members": 2, "events": 3, "cases": 2, "jobs": 14, "attempts": 2, "clicks": 2, "audit_entries": 1}'::jsonb,
  'the export holds every row about them: both companies, the user-less event, the creator''s dismissal');
select ok((select doc::text from exported) like '%v1.k1.iv.email_user_dsr%', '... as stored (the CLI decrypts)');
select ok((select doc::text from exported) not like '%user_other%', '... and nothing about anyone else');
select is((select after from public.audit_log where action = 'privacy.export' order by id desc limit 1),
  (select doc -> 'counts' from exported), 'the export is audited with its counts');
select is(private.export_member_data('user_nobody', null, 'ops@test') -> 'counts' -> 'members', '0'::jsonb,
  'an unknown member exports nothing');

select is(private.count_member_data('user_dsr', null),
  (select jsonb_build_object('user_ids', doc -> 'user_ids', 'counts', doc -> 'counts') from exported),
  'the erase preview counts the same rows');

-- Erase by user id.
create temp table other_before as
select kind, row_id, data from private.member_rows(array['user_other']);
select is(private.erase_member_data('user_dsr', null, 'ops@test'),
  '{"members": 2, "events": 3, "cases": 2, "jobs": 14, "attempts": 2, "clicks": 2, "audit_entries": 1}'::jsonb,
  'erasure reports what it deleted');

create temp table mentions (table_name text, row_text text);
do $$
declare
  t record;
begin
  for t in select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'public' and c.relkind = 'r' loop
    execute format($q$insert into mentions select %L, x::text from public.%I x
                      where x::text ~ '(user_dsr|mem_dsr_[12]|dsr_index|email_user_dsr|payload_dsr_[123])'$q$,
                   t.relname, t.relname);
  end loop;
end
$$;
select is((select array_agg(table_name || ': ' || row_text) from mentions), null,
  'no row of any table mentions the member any more');
select set_eq($$select kind, row_id, data from private.member_rows(array['user_other'])$$,
  $$select kind, row_id, data from other_before$$, 'the other member is untouched');
select is((select count(*)::int from public.recovery_cases where company_id = 'biz_dsr_a'), 1,
  '... and keeps their case');
select is((select after from public.audit_log where action = 'privacy.erase' order by id desc limit 1),
  '{"members": 2, "events": 3, "cases": 2, "jobs": 14, "attempts": 2, "clicks": 2, "audit_entries": 1}'::jsonb,
  'the erasure is audited with counts');
select is((select company_id from public.audit_log where action = 'privacy.erase' order by id desc limit 1), null,
  '... as an operator entry that no creator sees');
select is(private.erase_member_data('user_dsr', null, 'ops@test') -> 'events', '0'::jsonb, 'erasing again finds nothing');

select throws_ok($$select private.erase_member_data('user_other', null, '')$$, '22023', null, 'an actor is required');
select ok(not has_function_privilege('authenticated', 'private.erase_member_data(text, text[], text)', 'execute')
  and not has_function_privilege('authenticated', 'private.export_member_data(text, text[], text)', 'execute'),
  'creators cannot export or erase');
select ok(has_function_privilege('service_role', 'private.erase_member_data(text, text[], text)', 'execute'),
  'the service role can');

select * from finish();
rollback;
