-- Recovery cases: one per at-risk membership, driven by the case engine in SQL (ingest issue).
-- At most one open case per company + membership, enforced by a partial unique index.

create table public.recovery_cases (
  id uuid primary key default gen_random_uuid(),
  company_id text not null references public.companies (company_id) on delete cascade,
  membership_id text not null,
  user_id text,
  status text not null default 'open'
    constraint recovery_cases_status_valid check (status in ('open', 'recovered', 'lost', 'expired', 'dismissed')),
  reason text not null constraint recovery_cases_reason_valid check (
    reason in ('payment_failed', 'action_required', 'cancel_scheduled', 'membership_deactivated')
  ),
  opened_at timestamptz not null,
  closed_at timestamptz,
  attribution text
    constraint recovery_cases_attribution_valid check (attribution in ('click_through', 'nudged', 'organic')),
  failure_count integer not null default 1 constraint recovery_cases_failure_count_positive check (failure_count >= 1),
  amount_at_risk_minor bigint,
  recovered_amount_minor bigint,
  currency text constraint recovery_cases_currency_format check (currency ~ '^[a-z]{3}$'),
  payment_id text,
  -- Where a tracked recovery link sends the member: the payment's recovery_url, else the membership's manage_url.
  recovery_url text,
  manage_url text,
  -- Not foreign keys: events are purged after 30 days, cases live until 60 days after closing.
  opening_event_id text,
  closing_event_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint recovery_cases_closed_iff_not_open check ((status = 'open') = (closed_at is null)),
  constraint recovery_cases_attribution_iff_recovered check ((status = 'recovered') = (attribution is not null))
);

create unique index recovery_cases_one_open_per_membership
  on public.recovery_cases (company_id, membership_id) where status = 'open';
create index recovery_cases_company_membership_idx on public.recovery_cases (company_id, membership_id, opened_at desc);
create index recovery_cases_company_status_opened_idx on public.recovery_cases (company_id, status, opened_at desc);
create index recovery_cases_company_opened_idx on public.recovery_cases (company_id, opened_at desc);
create index recovery_cases_closed_idx on public.recovery_cases (closed_at) where closed_at is not null;

create trigger recovery_cases_set_updated_at before update on public.recovery_cases
  for each row execute function private.set_updated_at();

select private.apply_tenant_rls('public.recovery_cases');

revoke all on public.recovery_cases from public, anon, authenticated;
-- Status changes go through SQL functions (the state machine), never direct writes.
grant select on public.recovery_cases to authenticated;
grant all on public.recovery_cases to service_role;
