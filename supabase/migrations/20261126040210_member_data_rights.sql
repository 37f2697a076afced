-- Data-subject rights: export and erase everything stored about one member (a Whop user), found by
-- user id or by the blind index of their email. Keys live in the application, so these functions
-- see only ciphertext: `deno task privacy` computes the blind index candidates (one per key of the
-- ring) and decrypts the export. Only the service role may call them; each call is audited in
-- audit_log as an operator entry (no company) with counts only, never an id or a detail of the
-- member, so that the erasure's own record does not mention who was erased.

-- The member's user ids: the one given, and those whose stored email matches a blind index.
create or replace function private.member_user_ids(p_user_id text, p_email_blind_indexes text[]) returns text[]
language sql
stable
set search_path = ''
as $$
  select coalesce(array_agg(distinct u.user_id order by u.user_id), '{}')
  from (
    select p_user_id as user_id where p_user_id is not null
    union
    select m.user_id from public.members m where m.email_blind_index = any (coalesce(p_email_blind_indexes, '{}'))
  ) u
$$;

-- Rows mentioning the member: their member records, and every event and case of their memberships
-- (an event of one of their memberships may lack the user id, e.g. some deactivations).
create or replace function private.member_rows(p_user_ids text[])
returns table (kind text, company_id text, membership_id text, row_id text, data jsonb)
language sql
stable
set search_path = ''
as $$
  with memberships as (
    select e.company_id, e.membership_id from public.events e
    where e.user_id = any (p_user_ids) and e.membership_id is not null
    union
    select rc.company_id, rc.membership_id from public.recovery_cases rc where rc.user_id = any (p_user_ids)
  ), cases as (
    select rc.* from public.recovery_cases rc
    where rc.user_id = any (p_user_ids)
       or (rc.company_id, rc.membership_id) in (select m.company_id, m.membership_id from memberships m)
  ), jobs as (
    select j.* from public.job_queue j where j.case_id in (select c.id from cases c)
  )
  select 'member', m.company_id, null, m.user_id, to_jsonb(m)
  from public.members m where m.user_id = any (p_user_ids)
  union all
  select 'event', e.company_id, e.membership_id, e.id, to_jsonb(e)
  from public.events e
  where e.user_id = any (p_user_ids)
     or (e.company_id, e.membership_id) in (select m.company_id, m.membership_id from memberships m)
  union all
  select 'case', c.company_id, c.membership_id, c.id::text, to_jsonb(c) from cases c
  union all
  select 'job', j.company_id, null, j.id::text, to_jsonb(j) from jobs j
  union all
  select 'attempt', a.company_id, null, a.id::text, to_jsonb(a)
  from public.notification_attempts a where a.job_id in (select j.id from jobs j)
  union all
  select 'click', k.company_id, null, k.id::text, to_jsonb(k)
  from public.link_clicks k where k.case_id in (select c.id from cases c)
  union all
  -- Creators' actions on the member's cases (nudge, dismiss, cancel) name the case and membership.
  select 'audit_entry', l.company_id, null, l.id::text, to_jsonb(l)
  from public.audit_log l
  where l.target_type = 'recovery_case' and l.target_id in (select c.id::text from cases c)
$$;

create or replace function private.member_row_counts(p_rows jsonb) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select jsonb_build_object(
    'members', count(*) filter (where r ->> 'kind' = 'member'),
    'events', count(*) filter (where r ->> 'kind' = 'event'),
    'cases', count(*) filter (where r ->> 'kind' = 'case'),
    'jobs', count(*) filter (where r ->> 'kind' = 'job'),
    'attempts', count(*) filter (where r ->> 'kind' = 'attempt'),
    'clicks', count(*) filter (where r ->> 'kind' = 'click'),
    'audit_entries', count(*) filter (where r ->> 'kind' = 'audit_entry'))
  from jsonb_array_elements(coalesce(p_rows, '[]')) r
$$;

-- Export and erasure are audited under the operator's name.
create or replace function private.require_privacy_actor(p_actor text) returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_actor is null or length(trim(p_actor)) = 0 then
    raise exception 'an actor is required for the audit log' using errcode = '22023';
  end if;
end
$$;

-- What export and erase would cover, for the erase confirmation: counts only, so not audited.
create or replace function private.count_member_data(p_user_id text, p_email_blind_indexes text[]) returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'user_ids', to_jsonb(u.ids),
    'counts', private.member_row_counts(
      (select coalesce(jsonb_agg(jsonb_build_object('kind', r.kind)), '[]') from private.member_rows(u.ids) r)))
  from (select private.member_user_ids(p_user_id, p_email_blind_indexes) as ids) u
$$;

-- Everything stored about the member, as stored (PII and payloads still encrypted):
-- {"user_ids": [...], "counts": {...}, "rows": [{"kind", "company_id", "membership_id", "row_id", "data"}]}.
create or replace function private.export_member_data(p_user_id text, p_email_blind_indexes text[], p_actor text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  user_ids text[] := private.member_user_ids(p_user_id, p_email_blind_indexes);
  found_rows jsonb;
  counts jsonb;
begin
  perform private.require_privacy_actor(p_actor);
  select coalesce(jsonb_agg(to_jsonb(r) order by r.kind, r.company_id, r.row_id), '[]') into found_rows
  from private.member_rows(user_ids) r;
  counts := private.member_row_counts(found_rows);
  insert into public.audit_log (actor, action, target_type, after)
  values (p_actor, 'privacy.export', 'member', counts);
  return jsonb_build_object('user_ids', to_jsonb(user_ids), 'counts', counts, 'rows', found_rows);
end
$$;

-- Deletes every row mentioning the member, in one transaction, and returns what was deleted per
-- kind. Each membership is locked the way the case engine locks it, so a webhook being processed
-- for it at the same time cannot write its cases back halfway. A later webhook about the member
-- stores them again: erasure covers what is held now.
create or replace function private.erase_member_data(p_user_id text, p_email_blind_indexes text[], p_actor text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  user_ids text[] := private.member_user_ids(p_user_id, p_email_blind_indexes);
  found_rows jsonb;
  counts jsonb;
begin
  perform private.require_privacy_actor(p_actor);
  perform pg_advisory_xact_lock(hashtextextended(r.company_id || '/' || r.membership_id, 0))
  from (select distinct m.company_id, m.membership_id from private.member_rows(user_ids) m
        where m.membership_id is not null order by 1, 2) r;

  create temp table member_erasure on commit drop as select * from private.member_rows(user_ids);
  select coalesce(jsonb_agg(jsonb_build_object('kind', e.kind)), '[]') into found_rows from member_erasure e;
  counts := private.member_row_counts(found_rows);

  delete from public.link_clicks k using member_erasure e where e.kind = 'click' and k.id = e.row_id::bigint;
  delete from public.notification_attempts a using member_erasure e where e.kind = 'attempt' and a.id = e.row_id::bigint;
  delete from public.job_queue j using member_erasure e where e.kind = 'job' and j.id = e.row_id::bigint;
  delete from public.recovery_cases rc using member_erasure e where e.kind = 'case' and rc.id = e.row_id::uuid;
  delete from public.events ev using member_erasure e where e.kind = 'event' and ev.id = e.row_id;
  delete from public.members m using member_erasure e
  where e.kind = 'member' and m.company_id = e.company_id and m.user_id = e.row_id;
  delete from public.audit_log l using member_erasure e where e.kind = 'audit_entry' and l.id = e.row_id::bigint;
  drop table member_erasure;

  insert into public.audit_log (actor, action, target_type, after)
  values (p_actor, 'privacy.erase', 'member', counts);
  return counts;
end
$$;

revoke execute on function private.require_privacy_actor(text), private.member_user_ids(text, text[]), private.member_rows(text[]),
  private.member_row_counts(jsonb), private.count_member_data(text, text[]),
  private.export_member_data(text, text[], text), private.erase_member_data(text, text[], text)
from public, anon, authenticated;
grant execute on function private.count_member_data(text, text[]), private.export_member_data(text, text[], text),
  private.erase_member_data(text, text[], text)
to service_role;
