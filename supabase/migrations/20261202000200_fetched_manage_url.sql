-- Where a member fixes a failed renewal. Whop's v1 Payment has no `recovery_url` as a rule and
-- payment events carry no `manage_url` (WHOP.md 1.1), so a payment-failed case often has no
-- destination from its events. The dispatcher then reads the membership (GET /memberships/{id})
-- before the first message and keeps its manage_url with the case, in a column of its own: the case
-- engine's replays rewrite recovery_url and manage_url from the events, never this one. A case is
-- looked up once: Whop's definitive answer (the membership, or none) is remembered either way, so a
-- membership Whop does not know costs one call, not one per message.

alter table public.recovery_cases
  add column fetched_manage_url text
    constraint recovery_cases_fetched_manage_url_valid
      check (fetched_manage_url ~* '^https?://[^[:space:]]+$' and char_length(fetched_manage_url) <= 2000),
  add column manage_url_looked_up_at timestamptz;

-- Where a link of the case leads, or null: the payment's recovery_url, else the membership's
-- manage_url from an event, else the one fetched from Whop.
create or replace function private.link_destination(p_case_id uuid) returns text
language sql stable
set search_path = ''
as $$
  select coalesce(
    case when rc.recovery_url ~* '^https?://[^[:space:]]+$' then rc.recovery_url end,
    case when rc.manage_url ~* '^https?://[^[:space:]]+$' then rc.manage_url end,
    rc.fetched_manage_url)
  from public.recovery_cases rc
  where rc.id = p_case_id
$$;

-- The cases among `p_case_ids` whose links lead nowhere yet and that were not looked up, with the
-- membership to read.
create or replace function private.cases_without_destination(p_case_ids uuid[])
returns table (case_id uuid, membership_id text)
language sql stable
set search_path = ''
as $$
  select rc.id, rc.membership_id
  from public.recovery_cases rc
  where rc.id = any (p_case_ids) and rc.manage_url_looked_up_at is null and private.link_destination(rc.id) is null
$$;

-- Records Whop's answer for the case (null: no usable manage_url) and whether a URL was kept;
-- anything but an http(s) address is not kept.
create or replace function private.remember_manage_url(p_case_id uuid, p_manage_url text) returns boolean
language sql
set search_path = ''
as $$
  with checked as (
    select case when p_manage_url ~* '^https?://[^[:space:]]+$' and char_length(p_manage_url) <= 2000
                then p_manage_url end as url),
  kept as (
    update public.recovery_cases rc
    set fetched_manage_url = coalesce(checked.url, rc.fetched_manage_url), manage_url_looked_up_at = now()
    from checked
    where rc.id = p_case_id
    returning checked.url)
  select coalesce((select url is not null from kept), false)
$$;

revoke execute on function private.cases_without_destination(uuid[]), private.remember_manage_url(uuid, text)
from public, anon, authenticated;
grant execute on function private.cases_without_destination(uuid[]), private.remember_manage_url(uuid, text)
to service_role;
