-- When a creator made the set-up choices the dashboard's checklist asks for (issue 13, onboarding).
--
-- Two of them cannot be read from the values alone, since UTC and 3 free days are also the column
-- defaults a company gets before anyone chose: time_zone_chosen_at and incentive_chosen_at stay null
-- until the creator saves the settings form (the time zone it shows, the incentive picked explicitly).
-- The third, the experience pushes come from, is experience_id itself. Companies whose creator has
-- already saved settings from the dashboard (a settings.update audit row) count as having chosen both,
-- from their first save. The existing select/update grants of company_settings cover the columns.

alter table public.company_settings
  add column time_zone_chosen_at timestamptz,
  add column incentive_chosen_at timestamptz;

update public.company_settings s
set time_zone_chosen_at = first_save.at, incentive_chosen_at = first_save.at
from (
  select company_id, min(created_at) as at from public.audit_log
  where action = 'settings.update' group by company_id
) first_save
where first_save.company_id = s.company_id;
