-- Indexes for the dashboard's case list, CSV export and case page. The list pages by keyset
-- (sort key, id), so each sort has an index ending in id: a page is one short index range scan, also
-- with 100,000 cases. Email search goes from the member to their cases; the case page reads the
-- audit entries of one case.

create index if not exists recovery_cases_company_opened_id_idx
  on public.recovery_cases (company_id, opened_at desc, id desc);
create index if not exists recovery_cases_company_status_opened_id_idx
  on public.recovery_cases (company_id, status, opened_at desc, id desc);
-- "Largest amount first" puts cases without an amount last: the list sorts by this very expression.
create index if not exists recovery_cases_company_amount_id_idx
  on public.recovery_cases (company_id, (coalesce(amount_at_risk_minor, -1)) desc, id desc);
-- Email search finds the member first (members_company_email_idx), then their cases.
create index if not exists recovery_cases_company_user_idx
  on public.recovery_cases (company_id, user_id);

create index if not exists audit_log_company_target_idx
  on public.audit_log (company_id, target_type, target_id, created_at);
