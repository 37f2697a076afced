-- The case engine's small helpers, made cheap to call (issue 12: per new failure they took about a
-- tenth of the database time, 20-90 us a call).
--
-- A `language sql` function with a `set` clause is never inlined and is planned again on every call
-- from PL/pgSQL. The pure ones below only compute an expression of their arguments with built-in
-- functions and operators, so they lose the `set search_path` and the planner inlines them into the
-- caller's cached plan. That is safe: they are not security definer, so a caller's own search_path
-- can only change the caller's own result, and the engine's callers pin `search_path = ''`, under
-- which only pg_catalog's names resolve. Same bodies as in
-- 20261126010200_feature_flag_functions.sql, 20261126010400_case_engine.sql and
-- 20261203000200_refunds_disputes_first_checkouts.sql.
--
-- flag_enabled reads tables and keeps its pinned search_path; as PL/pgSQL its two lookups are
-- planned once per session instead of once per call.

create or replace function private.company_bucket(p_company_id text) returns integer
language sql immutable
as $$
  -- 0..99, the same for a company on every call and every server.
  select (abs(hashtextextended(p_company_id, 0)) % 100)::integer
$$;

create or replace function private.case_reason(p_type text) returns text
language sql immutable
as $$
  select case p_type
    when 'payment.failed' then 'payment_failed'
    when 'payment.requires_action' then 'action_required'
    when 'membership.cancel_at_period_end_changed' then 'cancel_scheduled'
    when 'membership.deactivated' then 'membership_deactivated'
  end
$$;

create or replace function private.event_effect(p_type text, p_cancel_at_period_end boolean, p_billing_reason text)
returns text
language sql immutable
as $$
  select case
    -- A first checkout that failed: nobody was a member yet, so nothing is at risk.
    when p_type in ('payment.failed', 'payment.requires_action') and p_billing_reason = 'subscription_create' then null
    when p_type in ('payment.failed', 'payment.requires_action') then 'fail'
    when p_type = 'membership.cancel_at_period_end_changed' and p_cancel_at_period_end then 'fail'
    when p_type in ('payment.succeeded', 'membership.activated') then 'success'
    when p_type = 'membership.cancel_at_period_end_changed' and not p_cancel_at_period_end then 'success'
    when p_type = 'membership.deactivated' then 'deactivate'
    when p_type = 'refund.created' then 'refund'
    when p_type = 'dispute.created' then 'dispute'
  end
$$;

create or replace function private.nudge_due_at(p_opened_at timestamptz, p_offset_days integer, p_send_hour integer, p_time_zone text)
returns timestamptz
language sql immutable
as $$
  select case
    when p_offset_days = 0 then p_opened_at
    else (((p_opened_at at time zone p_time_zone)::date + p_offset_days) + make_time(p_send_hour, 0, 0)) at time zone p_time_zone
  end
$$;

create or replace function private.flag_enabled(p_name text, p_company_id text default null) returns boolean
language plpgsql stable
set search_path = ''
as $$
declare
  v_on boolean;
begin
  select f.enabled
     and (p_company_id is null
          or p_company_id = any (f.company_allowlist)
          or private.company_bucket(p_company_id) < f.rollout_percent)
  into v_on
  from public.feature_flags f
  where f.name = p_name;
  if not coalesce(v_on, false) then
    return false;
  end if;
  return p_name = 'ROLLBACK_MODE'
    or not exists (select 1 from public.feature_flags r where r.name = 'ROLLBACK_MODE' and r.enabled);
end
$$;
