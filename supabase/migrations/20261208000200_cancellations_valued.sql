-- Cancellations valued in revenue at risk (issue 13). A scheduled cancellation (and a deactivation that
-- opens a case) carries no amount: Whop's membership events have no price, so such cases had no
-- amount at risk, and revenue at risk left them out (5 open cases, the total covered 4). The fold now
-- remembers the membership's latest payment amount among its events (any payment.* event with an
-- amount: what the member last paid, in its currency) and a case that opens without an amount takes
-- it; a cancellation withdrawn before the renewal then recovers that amount, as a paid renewal does.
-- A membership with no payment event stored (none yet, or purged after 30 days) stays unvalued:
-- the plan's renewal price (Whop GET /plans/{id}) would need a Whop call per plan, left for later.
-- As in 20261203000200_refunds_disputes_first_checkouts.sql (the latest definition) but for those
-- lines; `create or replace` keeps the grants. Existing cases get their value when their membership
-- is next processed (any new event) or by `deno task reprocess`.
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
  paid_minor bigint;  -- the membership's latest payment amount so far: what a cancellation puts at risk
  paid_currency text;
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
    if e.type like 'payment.%' and e.amount_minor is not null then
      paid_minor := e.amount_minor;
      paid_currency := e.currency;
    end if;
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
                   coalesce(e.amount_minor, paid_minor),
                   null, case when e.amount_minor is null then paid_currency else e.currency end,
                   e.payment_id, e.user_id, e.recovery_url, e.manage_url, array[e.id], null)::private.case_episode;
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
                   paid_minor, null, paid_currency, null, e.user_id, null, e.manage_url, array[e.id],
                   null)::private.case_episode;
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
