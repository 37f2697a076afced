-- Indexes for the ops health, metrics and alerts (web/ops), which read recent rows across all
-- companies (the existing indexes lead with company_id): attempts of the last hour, jobs finished,
-- cases opened and links clicked in the last day. Each query then reads a time range, not the table.

create index if not exists notification_attempts_created_idx on public.notification_attempts (created_at);
create index if not exists job_queue_updated_idx on public.job_queue (updated_at);
create index if not exists recovery_cases_opened_idx on public.recovery_cases (opened_at);
create index if not exists link_clicks_clicked_idx on public.link_clicks (clicked_at);
