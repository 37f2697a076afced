-- Member search tokens (20261208000100_member_search_tokens.sql): ingest stores them with the member, a
-- newer event replaces the tokens of the fields it carries and keeps the others, an older event changes
-- nothing, an event without member details keeps them, and a token search uses the GIN index.
begin;
select plan(9);

create function pg_temp.ingest(p_id text, p_at text, p_member jsonb) returns void language sql as $$
  select public.ingest_webhook_event(jsonb_build_object('id', p_id, 'company_id', 'biz_search', 'type',
    'membership.activated', 'raw_type', 'membership.activated', 'api_version', 'v1',
    'occurred_at', p_at, 'membership_id', 'mem_s1',
    'user_id', 'user_s1', 'member', p_member), false)
$$;

select pg_temp.ingest('msg_s1', '2026-01-01T00:00:00Z',
  '{"name_ciphertext": "n1", "email_ciphertext": "e1", "search_tokens": ["k1.n.a", "k1.n.ab", "k1.e.x"]}');
select is((select search_tokens from public.members where company_id = 'biz_search' and user_id = 'user_s1'),
  array['k1.n.a', 'k1.n.ab', 'k1.e.x'], 'the first event stores the tokens');

-- A newer event with a new name only: the name's tokens are replaced, the email's kept.
select pg_temp.ingest('msg_s2', '2026-01-02T00:00:00Z', '{"name_ciphertext": "n2", "search_tokens": ["k1.n.z"]}');
select is((select search_tokens from public.members where company_id = 'biz_search' and user_id = 'user_s1'),
  array['k1.e.x', 'k1.n.z'], 'a newer event replaces the tokens of the fields it carries, keeps the others');

-- An older event arriving late changes nothing.
select pg_temp.ingest('msg_s0', '2025-12-31T00:00:00Z', '{"name_ciphertext": "n0", "search_tokens": ["k1.n.old"]}');
select is((select search_tokens from public.members where company_id = 'biz_search' and user_id = 'user_s1'),
  array['k1.e.x', 'k1.n.z'], 'an older event does not overwrite newer tokens');

-- A newer event that carries no member fields keeps every token.
select pg_temp.ingest('msg_s3', '2026-01-03T00:00:00Z', '{}');
select is((select search_tokens from public.members where company_id = 'biz_search' and user_id = 'user_s1'),
  array['k1.e.x', 'k1.n.z'], 'an event without member details keeps the tokens');

select is(private.merge_search_tokens(null, array['k2.u.q']), array['k2.u.q'], 'merge into nothing');
select is(private.merge_search_tokens(array['k1.u.a', 'k1.n.b'], array['k2.u.c', 'k2.e.d']),
  array['k1.n.b', 'k2.u.c', 'k2.e.d'], 'merge replaces each field the new tokens have, in order');

select has_index('public', 'members', 'members_search_tokens_idx', 'the GIN index exists');
create function pg_temp.plan_of(p_query text) returns text language plpgsql as $$
declare
  v_line text;
  v_plan text := '';
begin
  for v_line in execute 'explain ' || p_query loop
    v_plan := v_plan || v_line || E'\n';
  end loop;
  return v_plan;
end
$$;
-- Tokens shaped like real ones: short prefixes shared by many members, long ones by few, so ANALYZE
-- has element statistics (without them the planner guesses a fixed share of rows for &&).
insert into public.members (company_id, user_id, search_tokens, last_event_at)
select 'biz_search', 'user_bulk' || n, array['k1.n.p' || (n % 26), 'k1.n.q' || (n % 500), 'k1.n.t' || n, 'k1.e.t' || n], now()
from generate_series(1, 20000) n;
analyze public.members;
-- What autovacuum does between bursts of inserts: the planner counts a full pending list as pages to read.
select ok(gin_clean_pending_list('public.members_search_tokens_idx') >= 0, 'the pending list is merged');
select matches(pg_temp.plan_of($q$select user_id from public.members
    where company_id = 'biz_search' and search_tokens && array['k1.n.t77', 'k1.e.t77']$q$),
  'members_search_tokens_idx', 'a token search reads the GIN index');
rollback;
