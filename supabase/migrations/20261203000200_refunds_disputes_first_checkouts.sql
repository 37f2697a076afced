-- What an event means (WHOP.md 4): a failed first checkout is not a churn risk, and a refund or a
-- dispute means the member must not be nudged or counted as won back. Until now a failed first
-- checkout (`billing_reason = subscription_create`) opened a "renewal failed" case and nudged
-- someone who never was a member, and refunds and disputes had no effect at all.
--
-- Rules added to the case engine (20261126010400_case_engine.sql; W = the attribution window):
--   * payment.failed / payment.requires_action with billing_reason `subscription_create` is stored
--     and has no effect: it opens no case and does not merge into one. Every other billing reason
--     (subscription_cycle, subscription_update, manual, one_time, none) behaves as before.
--   * refund.created / dispute.created act on the membership's latest case:
--       - an open case closes as `lost`, closed_by `refund` / `dispute` (its pending nudges are
--         cancelled like any closed case's);
--       - else a case recovered within W of its opening (the refund or dispute inside W) is no
--         longer counted as recovered: it becomes `lost` at the refund, closed_by, without a
--         recovered amount or an attribution;
--       - else a lost case that could still be won back is marked closed_by and can no longer be.
--     A case closed_by a refund or dispute is final: no later success recovers or wins it back.
--   * For W after a refund or dispute, a membership.deactivated (usually the refund's own
--     consequence) opens no `membership_deactivated` case, unless a new failure or a success came
--     in between. A new failure (renewal failed, cancellation scheduled) opens a fresh case as usual:
--     that is how a refunded membership becomes recoverable again.
-- The engine stays a pure fold over the membership's events in event-time order, so any delivery
-- order gives the same state. Retention (private.event_purge_cut) keeps the events these rules need:
-- a recovered case's until W after its opening (as a lost case's), and those within W before a refund.
--
-- `recovery_cases.closed_by` says why such a case is lost; the status list is unchanged. Re-created
-- here: event_effect (a 3-argument form that knows the billing reason, the 2-argument form kept for
-- 20261126040100_integrity_checks.sql), derive_membership_episodes, rebuild_membership_cases (to
-- store closed_by), run_integrity_checks (a failed first checkout has no case, by design) and
-- event_purge_cut.

alter table public.recovery_cases
  add column closed_by text
    constraint recovery_cases_closed_by_valid check (closed_by in ('refund', 'dispute')),
  add constraint recovery_cases_closed_by_only_lost check (closed_by is null or status = 'lost');

alter type private.case_episode add attribute closed_by text;

-- How an event moves a case: fail | success | deactivate | refund | dispute | null (no effect).
create or replace function private.event_effect(p_type text, p_cancel_at_period_end boolean, p_billing_reason text)
returns text
language sql immutable
set search_path = ''
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

-- Without the billing reason (as the integrity checks call it): as if none was given.
create or replace function private.event_effect(p_type text, p_cancel_at_period_end boolean) returns text
language sql immutable
set search_path = ''
as $$
  select private.event_effect(p_type, p_cancel_at_period_end, null)
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
  revoked_at timestamptz;  -- the latest refund or dispute not followed by a failure or a success
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
           ev.recovery_url, ev.manage_url, ev.cancel_at_period_end, ev.billing_reason
    from public.events ev
    where ev.company_id = p_company_id and ev.membership_id = p_membership_id
    order by ev.occurred_at, ev.id
  loop
    effect := private.event_effect(e.type, e.cancel_at_period_end, e.billing_reason);
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
    if revoked_at is not null and e.occurred_at > revoked_at + win then
      revoked_at := null;
    end if;

    if effect = 'fail' then
      revoked_at := null;
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
                   array[e.id], null)::private.case_episode;
        has_cur := true;
      end if;
    elsif effect = 'success' then
      revoked_at := null;
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
      elsif lost_idx is null and revoked_at is null then
        cur := row(e.id, 'membership_deactivated', e.occurred_at, 'open', null, null, 1,
                   null, null, null, null, e.user_id, null, e.manage_url, array[e.id], null)::private.case_episode;
        has_cur := true;
      end if;
    elsif effect in ('refund', 'dispute') then
      revoked_at := e.occurred_at;
      if has_cur then
        cur.status := 'lost';
        cur.closed_at := e.occurred_at;
        cur.closing_event_id := e.id;
        cur.closed_by := effect;
        cur.event_ids := cur.event_ids || e.id;
        done := done || cur;
        has_cur := false;
      elsif cardinality(done) > 0 then
        tmp := done[cardinality(done)];
        if tmp.closed_by is null and e.occurred_at <= tmp.opened_at + win then
          if tmp.status = 'recovered' then
            -- Money given back is not a recovery.
            tmp.status := 'lost';
            tmp.closed_at := e.occurred_at;
            tmp.closing_event_id := e.id;
            tmp.recovered_amount_minor := null;
            tmp.closed_by := effect;
            tmp.event_ids := tmp.event_ids || e.id;
          elsif tmp.status = 'lost' then
            -- Lost at the deactivation, and now never to be won back.
            tmp.closed_by := effect;
            tmp.event_ids := tmp.event_ids || e.id;
          end if;
          done[cardinality(done)] := tmp;
        end if;
      end if;
      lost_idx := null;
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

-- As in 20261126010400_case_engine.sql, storing closed_by too.
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
          recovery_url, manage_url, opening_event_id, closing_event_id, closed_by)
        values (p_company_id, p_membership_id, ep.user_id, ep.status, ep.reason, ep.opened_at, ep.closed_at,
          v_attribution, ep.failure_count, ep.amount_at_risk_minor, ep.recovered_amount_minor, ep.currency,
          ep.payment_id, ep.recovery_url, ep.manage_url, ep.opening_event_id, ep.closing_event_id, ep.closed_by)
        returning id into row_id;
      else
        update public.recovery_cases rc set
          user_id = ep.user_id, status = ep.status, reason = ep.reason, opened_at = ep.opened_at,
          closed_at = ep.closed_at, attribution = case when ep.status = 'recovered' then v_attribution end,
          failure_count = ep.failure_count, amount_at_risk_minor = ep.amount_at_risk_minor,
          recovered_amount_minor = ep.recovered_amount_minor, currency = ep.currency, payment_id = ep.payment_id,
          recovery_url = ep.recovery_url, manage_url = ep.manage_url, opening_event_id = ep.opening_event_id,
          closing_event_id = ep.closing_event_id, closed_by = ep.closed_by
        where rc.id = row_id
          and (rc.user_id, rc.status, rc.reason, rc.opened_at, rc.closed_at, rc.attribution, rc.failure_count,
               rc.amount_at_risk_minor, rc.recovered_amount_minor, rc.currency, rc.payment_id, rc.recovery_url,
               rc.manage_url, rc.opening_event_id, rc.closing_event_id, rc.closed_by)
            is distinct from
              (ep.user_id, ep.status, ep.reason, ep.opened_at, ep.closed_at,
               case when ep.status = 'recovered' then v_attribution end, ep.failure_count, ep.amount_at_risk_minor,
               ep.recovered_amount_minor, ep.currency, ep.payment_id, ep.recovery_url, ep.manage_url,
               ep.opening_event_id, ep.closing_event_id, ep.closed_by);
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

-- As in 20261126040100_integrity_checks.sql, except that a failed first checkout is not expected to
-- have a case (it opens none by design).
create or replace function private.run_integrity_checks(
  p_since timestamptz default now() - interval '7 days', p_source text default 'cron'
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_run bigint;
  v_daily jsonb;
  v_violations bigint;
begin
  -- The plan's daily SQL: what arrived per day in the three core tables.
  -- One pass over each table, grouped by UTC day (a day with no rows still gets its zeros).
  with bounds as (
    select (p_since at time zone 'UTC')::date as first_day,
           ((p_since at time zone 'UTC')::date)::timestamp at time zone 'UTC' as first_start
  ), days as (
    select g.day::date as day
    from bounds b, generate_series(b.first_day, (now() at time zone 'UTC')::date, interval '1 day') as g(day)
  ), ev as (
    select (e.created_at at time zone 'UTC')::date as day, count(*) as n
    from public.events e, bounds b where e.created_at >= b.first_start group by 1
  ), rc as (
    select (c.created_at at time zone 'UTC')::date as day, count(*) as n
    from public.recovery_cases c, bounds b where c.created_at >= b.first_start group by 1
  ), jq as (
    select (j.created_at at time zone 'UTC')::date as day, count(*) as n
    from public.job_queue j, bounds b where j.created_at >= b.first_start group by 1
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'day', d.day, 'events', coalesce(ev.n, 0), 'recovery_cases', coalesce(rc.n, 0), 'job_queue', coalesce(jq.n, 0)
         ) order by d.day), '[]')
  into v_daily
  from days d
  left join ev on ev.day = d.day
  left join rc on rc.day = d.day
  left join jq on jq.day = d.day;

  insert into public.integrity_runs (source, since, status, daily_counts)
  values (p_source, p_since, 'pass', v_daily)
  returning id into v_run;

  -- Every processed payment failure of a renewal belongs to a case that was open when it happened
  -- (it opened one, or merged into the open one). A failed first checkout opens none.
  insert into public.integrity_findings (run_id, check_name, description, violations, sample_ids)
  select v_run, 'failed_payment_has_case', 'every processed payment failure has its recovery case',
         count(*), coalesce((array_agg(e.id order by e.occurred_at, e.id))[1:5], '{}')
  from public.events e
  where e.type in ('payment.failed', 'payment.requires_action') and e.membership_id is not null
    and e.billing_reason is distinct from 'subscription_create'
    and e.processed_at is not null and e.received_at >= p_since
    and not exists (
      select 1 from public.recovery_cases rc
      where rc.company_id = e.company_id and rc.membership_id = e.membership_id
        and rc.opened_at <= e.occurred_at and (rc.closed_at is null or rc.closed_at >= e.occurred_at));

  -- The partial unique index enforces this; the check catches an index that went missing.
  insert into public.integrity_findings (run_id, check_name, description, violations, sample_ids)
  select v_run, 'one_open_case_per_membership', 'no membership has two open cases',
         count(*), coalesce((array_agg(dup.extra_id order by dup.extra_id))[1:5], '{}')
  from (
    select (array_agg(rc.id::text order by rc.opened_at, rc.id))[2] as extra_id
    from public.recovery_cases rc
    where rc.status = 'open'
    group by rc.company_id, rc.membership_id
    having count(*) > 1
  ) dup;

  -- A job is delivered once: one `sent` attempt per job.
  insert into public.integrity_findings (run_id, check_name, description, violations, sample_ids)
  select v_run, 'job_sent_once', 'no nudge job has more than one sent attempt',
         count(*), coalesce((array_agg(twice.job_id::text order by twice.job_id))[1:5], '{}')
  from (
    select a.job_id from public.notification_attempts a
    where a.status = 'sent' and a.created_at >= p_since
    group by a.job_id
    having count(*) > 1
  ) twice;

  -- The free-days incentive is applied at most once per case (its Idempotency-Key names the case).
  insert into public.integrity_findings (run_id, check_name, description, violations, sample_ids)
  select v_run, 'incentive_applied_once', 'no case got the free-days incentive twice',
         count(*), coalesce((array_agg(twice.case_id::text order by twice.case_id))[1:5], '{}')
  from (
    select j.case_id from public.job_queue j
    where j.channel = 'incentive' and j.status = 'sent' and j.updated_at >= p_since
    group by j.case_id
    having count(*) > 1
  ) twice;

  -- A recovered case names the success event that closed it, and that event is stored (until the
  -- 30-day event retention may have purged it).
  insert into public.integrity_findings (run_id, check_name, description, violations, sample_ids)
  select v_run, 'recovered_case_has_closing_event', 'every recovered case has its closing success event',
         count(*), coalesce((array_agg(rc.id::text order by rc.closed_at, rc.id))[1:5], '{}')
  from public.recovery_cases rc
  where rc.status = 'recovered' and rc.updated_at >= p_since
    and (rc.closing_event_id is null
         or (rc.closed_at > now() - interval '30 days'
             and not exists (
               select 1 from public.events e
               where e.id = rc.closing_event_id and e.company_id = rc.company_id
                 and e.membership_id = rc.membership_id
                 and private.event_effect(e.type, e.cancel_at_period_end) = 'success')));

  select coalesce(sum(f.violations), 0) into v_violations from public.integrity_findings f where f.run_id = v_run;
  update public.integrity_runs
  set status = case when v_violations = 0 then 'pass' else 'fail' end,
      violations = v_violations, finished_at = clock_timestamp()
  where id = v_run;

  -- Keep three months of runs.
  delete from public.integrity_runs where created_at < now() - interval '90 days';
  return v_run;
end
$$;

-- As in 20261126040200_retention.sql, except for what the rules above need kept: a recovered case
-- may still be taken back by a refund or dispute until W after its opening (so its events stay as
-- long as a lost case's), and a deactivation within W after a refund or dispute must still see it.
create or replace function private.event_purge_cut(p_company_id text, p_membership_id text, p_cutoff timestamptz)
returns table (occurred_at timestamptz, id text)
language sql
stable
set search_path = ''
as $$
  with settings as (
    select make_interval(days => coalesce(
      (select s.attribution_window_days from public.company_settings s where s.company_id = p_company_id), 14)) as win
  ), ordered as (
    select e.id, e.occurred_at,
           bool_and(e.received_at < p_cutoff) over w as old_prefix,
           lead(e.occurred_at) over w as next_at,
           max(e.occurred_at) filter (where e.type in ('refund.created', 'dispute.created')) over w as revoked_at
    from public.events e
    where e.company_id = p_company_id and e.membership_id = p_membership_id
    window w as (order by e.occurred_at, e.id)
  )
  select o.occurred_at, o.id
  from ordered o, settings
  where o.old_prefix
    and (o.revoked_at is null or coalesce(o.next_at, now()) > o.revoked_at + settings.win)
    and not exists (
      select 1
      from public.recovery_cases c
      where c.company_id = p_company_id and c.membership_id = p_membership_id and c.opened_at <= o.occurred_at
        and (c.status = 'open'
             -- Until it ends, a case takes in the next event (or, when none is left, future ones).
             or coalesce(o.next_at, now()) <= case
                  when c.status in ('lost', 'recovered') then greatest(c.closed_at, c.opened_at + settings.win)
                  else c.closed_at
                end))
  order by o.occurred_at desc, o.id desc
  limit 1
$$;

revoke execute on function
  private.event_effect(text, boolean, text), private.event_effect(text, boolean),
  private.derive_membership_episodes(text, text), private.rebuild_membership_cases(text, text),
  private.event_purge_cut(text, text, timestamptz)
from public, anon, authenticated;
revoke execute on function private.run_integrity_checks(timestamptz, text) from public, anon, authenticated;
grant execute on function private.run_integrity_checks(timestamptz, text) to service_role;
