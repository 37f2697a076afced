-- Two indexes of recovery_cases that others make redundant (issue 12 item 3: a new case wrote 13
-- index entries). Each is the leading part of a later index with the same order
-- (20261126030100_case_list_indexes.sql), which serves every query the shorter one served:
--   (company_id, opened_at desc)         leads recovery_cases_company_opened_id_idx (..., id desc)
--   (company_id, status, opened_at desc) leads recovery_cases_company_status_opened_id_idx (..., id desc)
-- Every case opened or closed maintained both for nothing.
drop index if exists public.recovery_cases_company_opened_idx;
drop index if exists public.recovery_cases_company_status_opened_idx;
