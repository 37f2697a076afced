-- The recovery-case state machine (ARCHITECTURE section 5), in SQL.
--
-- A membership's cases are a pure function of its stored events, replayed in event-time order
-- (occurred_at, then id), plus what creators and nudges added (dismissals, sent nudges, clicks)
-- and the clock (expiry). Every processed event replays its membership, so out-of-order and
-- duplicate deliveries end in the same state as in-order delivery. Replaying is cheap: a
-- membership has a handful of events, and the work is serialised per membership by a lock.
--
-- Rules, per membership, with W = the company's attribution window:
--   failure (payment.failed, payment.requires_action, cancel_at_period_end -> true)
--       opens a case, or merges into the open one (count, latest amount; schedule unchanged);
--   success (payment.succeeded, membership.activated, cancel_at_period_end -> false)
--       recovers the open case, or wins back the latest lost case, if within W of its opening;
--   membership.deactivated
--       closes the open case as lost, or opens a `membership_deactivated` case when none is open
--       and no lost case can still be won back;
--   an open case W after opening is expired; a dismissed case stays dismissed.

create type private.case_episode as (
  opening_event_id text,
  reason text,
  opened_at timestamptz,
  status text,
  closed_at timestamptz,
  closing_event_id text,
  failure_count integer,
  amount_at_risk_minor bigint,
  recovered_amount_minor bigint,
  currency text,
  payment_id text,
  user_id text,
  recovery_url text,
  manage_url text,
  event_ids text[]
);

-- How an event moves a case: fail | success | deactivate | null (no effect).
create or replace function private.event_effect(p_type text, p_cancel_at_period_end boolean) returns text
language sql immutable
set search_path = ''
as $$
  select case
    when p_type in ('payment.failed', 'payment.requires_action') then 'fail'
    when p_type = 'membership.cancel_at_period_end_changed' and p_cancel_at_period_end then 'fail'
    when p_type in ('payment.succeeded', 'membership.activated') then 'success'
    when p_type = 'membership.cancel_at_period_end_changed' and not p_cancel_at_period_end then 'success'
    when p_type = 'membership.deactivated' then 'deactivate'
  end
$$;

create or replace function private.case_reason(p_type text) returns text
language sql immutable
set search_path = ''
as $$
  select case p_type
    when 'payment.failed' then 'payment_failed'
    when 'payment.requires_action' then 'action_required'
    when 'membership.cancel_at_period_end_changed' then 'cancel_scheduled'
    when 'membership.deactivated' then 'membership_deactivated'
  end
$$;

-- click_through: a member clicked a tracked link of the case before recovering; nudged: a nudge
-- was delivered before; organic: neither.
create or replace function private.case_attribution(p_case_id uuid, p_recovered_at timestamptz) returns text
language sql stable
set search_path = ''
as $$
  select case
    when exists (select 1 from public.link_clicks c
                 where c.case_id = p_case_id and not c.is_bot and c.clicked_at <= p_recovered_at) then 'click_through'
    when exists (select 1 from public.job_queue j
                 where j.case_id = p_case_id and j.status = 'sent' and j.sent_at <= p_recovered_at) then 'nudged'
    else 'organic'
  end
$$;

-- When the nudge `p_offset_days` after opening goes out: day 0 at once, later days at the
-- company's send hour in its time zone.
create or replace function private.nudge_due_at(p_opened_at timestamptz, p_offset_days integer, p_send_hour integer, p_time_zone text)
returns timestamptz
language sql immutable
set search_path = ''
as $$
  select case
    when p_offset_days = 0 then p_opened_at
    else (((p_opened_at at time zone p_time_zone)::date + p_offset_days) + make_time(p_send_hour, 0, 0)) at time zone p_time_zone
  end
$$;

-- Creates the scheduled nudge jobs of an open case once (offsets x enabled channels, and the
-- incentive), and keeps the ones not sent yet aligned with its opening time (an earlier failure may
-- arrive late).
create or replace function private.schedule_case_jobs(p_case_id uuid) returns integer
language plpgsql
set search_path = ''
as $$
declare
  changed integer;
begin
  insert into public.job_queue as j (case_id, company_id, channel, step, scheduled_for)
  select rc.id, rc.company_id, ch.channel, o.step - 1,
         private.nudge_due_at(rc.opened_at, o.offset_days, s.send_hour, s.time_zone)
  from public.recovery_cases rc
  join public.company_settings s on s.company_id = rc.company_id
  cross join lateral unnest(s.nudge_offsets_days) with ordinality as o(offset_days, step)
  cross join lateral (values
    ('push', s.push_enabled),
    ('dm', s.dm_enabled),
    -- The free-days incentive goes with the first nudge; it only helps a member who still has a
    -- membership to extend.
    ('incentive', s.incentive_free_days > 0 and rc.reason <> 'membership_deactivated' and o.step = 1)
  ) as ch(channel, enabled)
  where rc.id = p_case_id and rc.status = 'open' and ch.enabled
  on conflict (case_id, channel, step) where origin = 'schedule' do update set scheduled_for = excluded.scheduled_for
    where j.status = 'pending' and j.scheduled_for is distinct from excluded.scheduled_for;
  get diagnostics changed = row_count;
  return changed;
end
$$;

-- Closing a case cancels what it has not sent yet.
create or replace function private.cancel_pending_jobs(p_case_id uuid) returns integer
language plpgsql
set search_path = ''
as $$
declare
  cancelled integer;
begin
  update public.job_queue set status = 'cancelled', last_error = 'case closed'
  where case_id = p_case_id and status = 'pending';
  get diagnostics cancelled = row_count;
  return cancelled;
end
$$;

-- Replays one membership's events into its episodes (the fold; no writes).
create or replace function private.derive_membership_episodes(p_company_id text, p_membership_id text)
returns setof private.case_episode
language plpgsql stable
set search_path = ''
as $$
declare
  win interval;
  e record;
  effect text;
  cur private.case_episode;
  has_cur boolean := false;
  done private.case_episode[] := '{}';
  lost_idx integer;  -- the latest lost episode in `done`, while it can still be won back
  tmp private.case_episode;
  dismissals jsonb;
  dismissed_at timestamptz;
begin
  select make_interval(days => s.attribution_window_days) into win
  from public.company_settings s where s.company_id = p_company_id;
  win := coalesce(win, interval '14 days');

  -- Creators' dismissals, keyed by the opening event of the case they dismissed.
  select coalesce(jsonb_object_agg(rc.opening_event_id, rc.closed_at), '{}') into dismissals
  from public.recovery_cases rc
  where rc.company_id = p_company_id and rc.membership_id = p_membership_id and rc.status = 'dismissed';

  for e in
    select ev.id, ev.type, ev.occurred_at, ev.amount_minor, ev.currency, ev.payment_id, ev.user_id,
           ev.recovery_url, ev.manage_url, ev.cancel_at_period_end
    from public.events ev
    where ev.company_id = p_company_id and ev.membership_id = p_membership_id
    order by ev.occurred_at, ev.id
  loop
    effect := private.event_effect(e.type, e.cancel_at_period_end);
    continue when effect is null;

    -- What happened to the open case before this event: dismissed, or expired.
    if has_cur then
      select min((dismissals ->> x)::timestamptz) into dismissed_at from unnest(cur.event_ids) x;
      if dismissed_at is not null and dismissed_at <= e.occurred_at then
        cur.status := 'dismissed';
        cur.closed_at := dismissed_at;
        done := done || cur;
        has_cur := false;
      elsif e.occurred_at > cur.opened_at + win then
        cur.status := 'expired';
        cur.closed_at := cur.opened_at + win;
        done := done || cur;
        has_cur := false;
      end if;
    end if;
    if lost_idx is not null and e.occurred_at > done[lost_idx].opened_at + win then
      lost_idx := null;
    end if;

    if effect = 'fail' then
      if has_cur then
        cur.failure_count := cur.failure_count + 1;
        cur.event_ids := cur.event_ids || e.id;
        if e.amount_minor is not null then
          cur.amount_at_risk_minor := e.amount_minor;
          cur.currency := e.currency;
        end if;
        cur.payment_id := coalesce(e.payment_id, cur.payment_id);
        cur.recovery_url := coalesce(e.recovery_url, cur.recovery_url);
        cur.manage_url := coalesce(e.manage_url, cur.manage_url);
        cur.user_id := coalesce(e.user_id, cur.user_id);
      else
        cur := row(e.id, private.case_reason(e.type), e.occurred_at, 'open', null, null, 1,
                   e.amount_minor, null, e.currency, e.payment_id, e.user_id, e.recovery_url, e.manage_url,
                   array[e.id])::private.case_episode;
        has_cur := true;
      end if;
    elsif effect = 'success' then
      if has_cur then
        cur.status := 'recovered';
        cur.closed_at := e.occurred_at;
        cur.closing_event_id := e.id;
        cur.event_ids := cur.event_ids || e.id;
        cur.recovered_amount_minor := coalesce(e.amount_minor, cur.amount_at_risk_minor);
        cur.currency := coalesce(cur.currency, e.currency);
        done := done || cur;
        has_cur := false;
      elsif lost_idx is not null then
        -- Win-back: a lost case whose window is still open.
        tmp := done[lost_idx];
        tmp.status := 'recovered';
        tmp.closed_at := e.occurred_at;
        tmp.closing_event_id := e.id;
        tmp.event_ids := tmp.event_ids || e.id;
        tmp.recovered_amount_minor := coalesce(e.amount_minor, tmp.amount_at_risk_minor);
        tmp.currency := coalesce(tmp.currency, e.currency);
        done[lost_idx] := tmp;
        lost_idx := null;
      end if;
    elsif effect = 'deactivate' then
      if has_cur then
        cur.status := 'lost';
        cur.closed_at := e.occurred_at;
        cur.closing_event_id := e.id;
        cur.event_ids := cur.event_ids || e.id;
        done := done || cur;
        lost_idx := cardinality(done);
        has_cur := false;
      elsif lost_idx is null then
        cur := row(e.id, 'membership_deactivated', e.occurred_at, 'open', null, null, 1,
                   null, null, null, null, e.user_id, null, e.manage_url, array[e.id])::private.case_episode;
        has_cur := true;
      end if;
    end if;
  end loop;

  if has_cur then
    select min((dismissals ->> x)::timestamptz) into dismissed_at from unnest(cur.event_ids) x;
    if dismissed_at is not null then
      cur.status := 'dismissed';
      cur.closed_at := dismissed_at;
    elsif now() > cur.opened_at + win then
      cur.status := 'expired';
      cur.closed_at := cur.opened_at + win;
    end if;
    done := done || cur;
  end if;

  return query select * from unnest(done);
end
$$;

-- Makes the stored cases of one membership equal to its replayed episodes, schedules nudges for
-- a case that is open and cancels those of closed cases. Existing rows keep their id (and so their
-- nudges and clicks): a row belongs to the episode that contains its opening event.
create or replace function private.rebuild_membership_cases(p_company_id text, p_membership_id text) returns void
language plpgsql
set search_path = ''
as $$
declare
  ep private.case_episode;
  episodes private.case_episode[];
  matched uuid[] := '{}';
  row_id uuid;
  v_attribution text;
  pass integer;
begin
  perform pg_advisory_xact_lock(hashtextextended(p_company_id || '/' || p_membership_id, 0));

  select coalesce(array_agg(d order by d.opened_at), '{}') into episodes
  from private.derive_membership_episodes(p_company_id, p_membership_id) d;

  -- Pass 1 writes closed episodes, pass 2 the open one, so that the one-open-case index never
  -- sees two open rows in between.
  for pass in 1..2 loop
    if pass = 2 then
      -- Rows left unmatched by the closed episodes and not candidates for the open one.
      delete from public.recovery_cases rc
      where rc.company_id = p_company_id and rc.membership_id = p_membership_id and rc.id <> all (matched)
        and exists (select 1 from public.events ev where ev.id = rc.opening_event_id)
        and not exists (select 1 from unnest(episodes) o where o.status = 'open' and rc.opening_event_id = any (o.event_ids));
    end if;
    foreach ep in array episodes loop
      continue when (pass = 1) = (ep.status = 'open');

      select rc.id into row_id
      from public.recovery_cases rc
      where rc.company_id = p_company_id and rc.membership_id = p_membership_id
        and rc.opening_event_id = any (ep.event_ids) and rc.id <> all (matched)
      order by rc.opened_at, rc.id
      limit 1
      for update;

      v_attribution := case when ep.status = 'recovered' and row_id is not null
                           then private.case_attribution(row_id, ep.closed_at)
                           when ep.status = 'recovered' then 'organic' end;

      if row_id is null then
        insert into public.recovery_cases (company_id, membership_id, user_id, status, reason, opened_at, closed_at,
          attribution, failure_count, amount_at_risk_minor, recovered_amount_minor, currency, payment_id,
          recovery_url, manage_url, opening_event_id, closing_event_id)
        values (p_company_id, p_membership_id, ep.user_id, ep.status, ep.reason, ep.opened_at, ep.closed_at,
          v_attribution, ep.failure_count, ep.amount_at_risk_minor, ep.recovered_amount_minor, ep.currency,
          ep.payment_id, ep.recovery_url, ep.manage_url, ep.opening_event_id, ep.closing_event_id)
        returning id into row_id;
      else
        update public.recovery_cases rc set
          user_id = ep.user_id, status = ep.status, reason = ep.reason, opened_at = ep.opened_at,
          closed_at = ep.closed_at, attribution = case when ep.status = 'recovered' then v_attribution end,
          failure_count = ep.failure_count, amount_at_risk_minor = ep.amount_at_risk_minor,
          recovered_amount_minor = ep.recovered_amount_minor, currency = ep.currency, payment_id = ep.payment_id,
          recovery_url = ep.recovery_url, manage_url = ep.manage_url, opening_event_id = ep.opening_event_id,
          closing_event_id = ep.closing_event_id
        where rc.id = row_id
          and (rc.user_id, rc.status, rc.reason, rc.opened_at, rc.closed_at, rc.attribution, rc.failure_count,
               rc.amount_at_risk_minor, rc.recovered_amount_minor, rc.currency, rc.payment_id, rc.recovery_url,
               rc.manage_url, rc.opening_event_id, rc.closing_event_id)
            is distinct from
              (ep.user_id, ep.status, ep.reason, ep.opened_at, ep.closed_at,
               case when ep.status = 'recovered' then v_attribution end, ep.failure_count, ep.amount_at_risk_minor,
               ep.recovered_amount_minor, ep.currency, ep.payment_id, ep.recovery_url, ep.manage_url,
               ep.opening_event_id, ep.closing_event_id);
      end if;
      matched := matched || row_id;

      if ep.status = 'open' then
        perform private.schedule_case_jobs(row_id);
      else
        perform private.cancel_pending_jobs(row_id);
      end if;
    end loop;
  end loop;

  -- A row whose episode merged into another one's (only possible after the attribution window
  -- was changed) has no episode of its own any more.
  delete from public.recovery_cases rc
  where rc.company_id = p_company_id and rc.membership_id = p_membership_id and rc.id <> all (matched)
    and exists (select 1 from public.events ev where ev.id = rc.opening_event_id);
end
$$;

-- Processes a membership: replays it and marks all its stored events processed.
create or replace function private.process_membership(p_company_id text, p_membership_id text) returns void
language plpgsql
set search_path = ''
as $$
begin
  perform private.rebuild_membership_cases(p_company_id, p_membership_id);
  update public.events set processed_at = now(), processing_error = null
  where company_id = p_company_id and membership_id = p_membership_id and processed_at is null;
end
$$;

-- Cron: open cases whose window has passed become expired (closed at the end of the window).
create or replace function private.expire_due_cases(p_batch integer default 1000) returns integer
language plpgsql
set search_path = ''
as $$
declare
  expired integer;
begin
  if private.flag_enabled('ROLLBACK_MODE') then
    return 0;
  end if;
  with due as (
    select rc.id, rc.opened_at + make_interval(days => s.attribution_window_days) as ends_at
    from public.recovery_cases rc
    join public.company_settings s on s.company_id = rc.company_id
    where rc.status = 'open' and rc.opened_at + make_interval(days => s.attribution_window_days) < now()
    order by rc.opened_at
    limit p_batch
    for update of rc skip locked
  ), closed as (
    update public.recovery_cases rc set status = 'expired', closed_at = due.ends_at
    from due where rc.id = due.id
    returning rc.id
  )
  select count(*) into expired from (select private.cancel_pending_jobs(id) from closed) c;
  return expired;
end
$$;

-- A creator dismisses an open case: it closes, its pending nudges are cancelled, and it is audited.
create or replace function private.dismiss_case(p_company_id text, p_case_id uuid, p_actor text) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  before_row jsonb;
begin
  select to_jsonb(rc) into before_row from public.recovery_cases rc
  where rc.id = p_case_id and rc.company_id = p_company_id and rc.status = 'open'
  for update;
  if before_row is null then
    return false;
  end if;
  update public.recovery_cases set status = 'dismissed', closed_at = now() where id = p_case_id;
  perform private.cancel_pending_jobs(p_case_id);
  insert into public.audit_log (company_id, actor, action, target_type, target_id, before, after)
  values (p_company_id, p_actor, 'case.dismiss', 'recovery_case', p_case_id::text,
          jsonb_build_object('status', before_row ->> 'status'), jsonb_build_object('status', 'dismissed'));
  return true;
end
$$;

revoke execute on function
  private.event_effect(text, boolean), private.case_reason(text), private.case_attribution(uuid, timestamptz),
  private.nudge_due_at(timestamptz, integer, integer, text), private.schedule_case_jobs(uuid),
  private.cancel_pending_jobs(uuid), private.derive_membership_episodes(text, text),
  private.rebuild_membership_cases(text, text), private.process_membership(text, text),
  private.expire_due_cases(integer), private.dismiss_case(text, uuid, text)
from public, anon, authenticated;
grant execute on function private.dismiss_case(text, uuid, text) to service_role;

select cron.schedule('churn-saver-expire-cases', '* * * * *', 'select private.expire_due_cases()');
