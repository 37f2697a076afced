-- Runtime feature flags (the rollout plan's names), flipped by operators without a redeploy.
-- Not a tenant table: companies never read or write it. RLS is forced with no policy for the API
-- roles, so only the service role (bypassrls) and the owner reach it.
-- A fresh production database starts dark: everything off until the rollout CLI turns it on.

create table public.feature_flags (
  name text primary key constraint feature_flags_name_valid check (
    name in ('WEBHOOK_PROCESSING_ENABLED', 'SCHEDULER_ENABLED', 'NOTIFICATIONS_ENABLED', 'ROLLBACK_MODE')
  ),
  enabled boolean not null default false,
  -- Share of companies (stable hash of the company id) for which the flag is on.
  rollout_percent smallint not null default 100
    constraint feature_flags_percent_range check (rollout_percent between 0 and 100),
  -- Companies for which the flag is on regardless of the percentage.
  company_allowlist text[] not null default '{}',
  description text not null,
  updated_by text not null default 'migration',
  updated_at timestamptz not null default now(),
  created_at timestamptz not null default now()
);

insert into public.feature_flags (name, enabled, description) values
  ('WEBHOOK_PROCESSING_ENABLED', false, 'Process stored webhook events into cases. Off: events are still verified and stored.'),
  ('SCHEDULER_ENABLED', false, 'Claim due nudge jobs. Off: nothing is claimed.'),
  ('NOTIFICATIONS_ENABLED', false, 'Send claimed nudges. Off, or outside the rollout: due jobs are marked suppressed.'),
  ('ROLLBACK_MODE', false, 'Emergency stop: forces every processing flag off.')
on conflict (name) do nothing;

alter table public.feature_flags enable row level security;
alter table public.feature_flags force row level security;

revoke all on public.feature_flags from public, anon, authenticated;
grant all on public.feature_flags to service_role;
