-- A case gets its free-days offer as it is written open, not by a second UPDATE of the row just
-- inserted (issue 12: profiling one client's new failures put a third of the database time in
-- schedule_case_jobs, half of it that UPDATE: a row inserted in the same transaction re-runs its
-- foreign-key check on any update, plus the updated_at trigger and a second row version).
--
-- Same rule as 20261203000300_honest_incentive_and_step_position.sql: decided once, the first time
-- the case is open (inserted open, or reopened with no offer yet); a lost membership's case offers
-- none. The trigger's WHEN clause is evaluated without calling the function, so closing a case or
-- any other update costs nothing more.

create or replace function private.set_case_offer() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  select case when new.reason = 'membership_deactivated' then 0 else s.incentive_free_days end
  into new.incentive_free_days
  from public.company_settings s where s.company_id = new.company_id;
  return new;
end
$$;
revoke execute on function private.set_case_offer() from public;

create trigger recovery_cases_set_offer
  before insert or update of status on public.recovery_cases
  for each row when (new.status = 'open' and new.incentive_free_days is null)
  execute function private.set_case_offer();

-- As in 20261203000300, without the UPDATE that the trigger above replaces.
create or replace function private.schedule_case_jobs(p_case_id uuid) returns integer
language plpgsql
set search_path = ''
as $$
declare
  changed integer;
begin
  insert into public.job_queue as j (case_id, company_id, channel, step, scheduled_for)
  select rc.id, rc.company_id, ch.channel, o.step - 1,
         case when ch.channel = 'incentive' then 'infinity'::timestamptz
              else private.nudge_due_at(rc.opened_at, o.offset_days, s.send_hour, s.time_zone) end
  from public.recovery_cases rc
  join public.company_settings s on s.company_id = rc.company_id
  cross join lateral unnest(s.nudge_offsets_days) with ordinality as o(offset_days, step)
  cross join lateral (values
    ('push', s.push_enabled),
    ('dm', s.dm_enabled),
    -- One grant per case, released by the first delivered message (complete_job).
    ('incentive', coalesce(rc.incentive_free_days, 0) > 0 and o.step = 1)
  ) as ch(channel, enabled)
  where rc.id = p_case_id and rc.status = 'open' and ch.enabled
  on conflict (case_id, channel, step) where origin = 'schedule' do update set scheduled_for = excluded.scheduled_for
    where j.status = 'pending' and j.channel <> 'incentive' and j.scheduled_for is distinct from excluded.scheduled_for;
  get diagnostics changed = row_count;
  return changed;
end
$$;
