-- Companies (Whop creators, `biz_...`) and their per-company settings.
-- A company is provisioned the first time one of its webhooks arrives, with default settings.

create table public.companies (
  company_id text primary key
    constraint companies_company_id_format check (company_id ~ '^biz_[A-Za-z0-9_-]{1,64}$'),
  title text constraint companies_title_length check (char_length(title) <= 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger companies_set_updated_at before update on public.companies
  for each row execute function private.set_updated_at();

create table public.company_settings (
  company_id text primary key references public.companies (company_id) on delete cascade,
  -- Days after a case opens at which nudges go out; day 0 is immediate, later ones at send_hour.
  nudge_offsets_days smallint[] not null default '{0,2,4}'
    constraint company_settings_offsets_valid check (
      cardinality(nudge_offsets_days) between 1 and 10
      and 0 <= all (nudge_offsets_days) and 30 >= all (nudge_offsets_days)
    ),
  send_hour smallint not null default 10
    constraint company_settings_send_hour_range check (send_hour between 0 and 23),
  time_zone text not null default 'UTC'
    constraint company_settings_time_zone_valid check (private.is_valid_time_zone(time_zone)),
  push_enabled boolean not null default true,
  dm_enabled boolean not null default true,
  -- Whop only delivers member push notifications through an experience.
  experience_id text constraint company_settings_experience_format check (experience_id ~ '^exp_[A-Za-z0-9_-]{1,64}$'),
  incentive_free_days smallint not null default 3
    constraint company_settings_incentive_range check (incentive_free_days between 0 and 1095),
  attribution_window_days smallint not null default 14
    constraint company_settings_window_range check (attribution_window_days between 1 and 90),
  nudges_paused boolean not null default false,
  -- Per step and channel overrides of the default message templates: {"push": {"0": {...}}, ...}.
  templates jsonb not null default '{}'::jsonb
    constraint company_settings_templates_object check (jsonb_typeof(templates) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger company_settings_set_updated_at before update on public.company_settings
  for each row execute function private.set_updated_at();

select private.apply_tenant_rls('public.companies');
select private.apply_tenant_rls('public.company_settings');

revoke all on public.companies, public.company_settings from public, anon, authenticated;
grant select on public.companies to authenticated;
-- Creators edit their settings from the dashboard; RLS keeps them to their own row.
grant select, update on public.company_settings to authenticated;
grant all on public.companies, public.company_settings to service_role;
