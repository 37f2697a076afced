-- Clicks on tracked recovery links. A recovery after a recorded (non-bot) click is attributed
-- `click_through`. The tracked-link endpoint itself arrives with the nudges issue.

create table public.link_clicks (
  id bigint generated always as identity primary key,
  company_id text not null references public.companies (company_id) on delete cascade,
  case_id uuid not null references public.recovery_cases (id) on delete cascade,
  job_id bigint references public.job_queue (id) on delete set null,
  clicked_at timestamptz not null default now(),
  -- Keyed hash, never the address itself.
  ip_hash text,
  is_bot boolean not null default false,
  created_at timestamptz not null default now()
);

create index link_clicks_company_clicked_idx on public.link_clicks (company_id, clicked_at desc);
create index link_clicks_case_idx on public.link_clicks (case_id, clicked_at);

select private.apply_tenant_rls('public.link_clicks');

revoke all on public.link_clicks from public, anon, authenticated;
grant select on public.link_clicks to authenticated;
grant all on public.link_clicks to service_role;
