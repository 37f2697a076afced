-- Audit log: who did what, when, with before/after, for creators' actions and operators' changes.
-- Operator entries (flags, rollout) carry no company and are invisible to every tenant.

create table public.audit_log (
  id bigint generated always as identity primary key,
  company_id text references public.companies (company_id) on delete cascade,
  actor text not null constraint audit_log_actor_length check (char_length(actor) between 1 and 200),
  action text not null constraint audit_log_action_length check (char_length(action) between 1 and 100),
  target_type text,
  target_id text,
  before jsonb,
  after jsonb,
  created_at timestamptz not null default now()
);

create index audit_log_company_created_idx on public.audit_log (company_id, created_at desc);

select private.apply_tenant_rls('public.audit_log');

revoke all on public.audit_log from public, anon, authenticated;
-- Append-only for creators: they may add entries for their own company and read them back.
grant select, insert on public.audit_log to authenticated;
grant all on public.audit_log to service_role;
