-- Nudge jobs and the record of every delivery attempt.
-- Jobs are created when a case opens (offsets x enabled channels) and claimed by the dispatcher
-- with FOR UPDATE SKIP LOCKED and a lease (nudges issue).

create table public.job_queue (
  id bigint generated always as identity primary key,
  case_id uuid not null references public.recovery_cases (id) on delete cascade,
  company_id text not null references public.companies (company_id) on delete cascade,
  channel text not null constraint job_queue_channel_valid check (channel in ('push', 'dm', 'incentive')),
  -- Index into the company's nudge schedule (0 = first nudge).
  step smallint not null constraint job_queue_step_range check (step between 0 and 100),
  origin text not null default 'schedule' constraint job_queue_origin_valid check (origin in ('schedule', 'manual')),
  status text not null default 'pending' constraint job_queue_status_valid check (
    status in ('pending', 'claimed', 'sent', 'failed', 'dead', 'cancelled', 'suppressed', 'skipped')
  ),
  scheduled_for timestamptz not null,
  attempts integer not null default 0,
  lease_expires_at timestamptz,
  claimed_by text,
  last_error text,
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- A scheduled step is created once per case and channel, however often the case is touched.
create unique index job_queue_one_per_scheduled_step
  on public.job_queue (case_id, channel, step) where origin = 'schedule';
-- The dispatcher's claim path: due pending jobs and expired leases.
create index job_queue_due_idx on public.job_queue (scheduled_for) where status in ('pending', 'claimed');
create index job_queue_company_created_idx on public.job_queue (company_id, created_at desc);
create index job_queue_case_idx on public.job_queue (case_id);

create trigger job_queue_set_updated_at before update on public.job_queue
  for each row execute function private.set_updated_at();

create table public.notification_attempts (
  id bigint generated always as identity primary key,
  job_id bigint not null references public.job_queue (id) on delete cascade,
  company_id text not null references public.companies (company_id) on delete cascade,
  status text not null constraint notification_attempts_status_valid check (
    status in ('sent', 'retry', 'failed', 'dead', 'skipped')
  ),
  http_status smallint,
  latency_ms integer,
  error text,
  created_at timestamptz not null default now()
);

create index notification_attempts_job_idx on public.notification_attempts (job_id);
create index notification_attempts_company_created_idx on public.notification_attempts (company_id, created_at desc);

select private.apply_tenant_rls('public.job_queue');
select private.apply_tenant_rls('public.notification_attempts');

revoke all on public.job_queue, public.notification_attempts from public, anon, authenticated;
grant select on public.job_queue, public.notification_attempts to authenticated;
grant all on public.job_queue, public.notification_attempts to service_role;
