-- Indexes for the dashboard's Overview (the case list's own are in 20261126030100_case_list_indexes).
-- The Overview reads open cases, cases *closed* in a range and nudges *sent* in a range, per company;
-- the existing indexes cover opened_at per company and closed_at across all companies only. Each
-- index below is partial and carries the columns the page aggregates (and company_id, which the RLS
-- policy reads), so its range scan is index-only once the visibility map is current.

-- Open cases and revenue at risk per currency.
create index if not exists recovery_cases_company_open_idx
  on public.recovery_cases (company_id, currency)
  include (amount_at_risk_minor)
  where status = 'open';

-- Outcomes, attribution, recovered revenue and recoveries per day of cases closed in the range.
create index if not exists recovery_cases_company_closed_idx
  on public.recovery_cases (company_id, closed_at)
  include (status, attribution, currency, recovered_amount_minor)
  where closed_at is not null;

-- The nudge funnel: scheduled push and DM nudges sent in the range, by step.
create index if not exists job_queue_company_sent_nudges_idx
  on public.job_queue (company_id, sent_at)
  include (id, step, case_id)
  where status = 'sent' and origin = 'schedule' and channel in ('push', 'dm');

-- The foreign key link_clicks.job_id (on delete set null) had no index: every deleted job (case
-- purges, a company's deletion) scanned all of link_clicks.
create index if not exists link_clicks_job_idx
  on public.link_clicks (job_id)
  where job_id is not null;
