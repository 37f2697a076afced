-- One claim over many companies' jobs due at the same moment (20261207000100_claim_due_jobs_cheaper.sql):
-- the batch is the first jobs by (scheduled_for, id), the notifications flag is decided per company (asked
-- once per company, not per job), and the due index is ordered as the claim reads it.
begin;
select plan(8);

update public.feature_flags set enabled = true, rollout_percent = 100, company_allowlist = '{}'
where name in ('WEBHOOK_PROCESSING_ENABLED', 'SCHEDULER_ENABLED', 'NOTIFICATIONS_ENABLED');
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';
update public.job_queue set status = 'cancelled' where status in ('pending', 'claimed');

insert into public.companies (company_id) values ('biz_batchon'), ('biz_batchoff');
insert into public.company_settings (company_id, experience_id, incentive_free_days)
values ('biz_batchon', 'exp_on', 0), ('biz_batchoff', 'exp_off', 0);
-- Three cases per company, interleaved, every push due at the same send hour.
insert into public.recovery_cases (company_id, membership_id, user_id, reason, opened_at, manage_url, incentive_free_days)
select c, 'mem_' || c || n, 'user_' || c || n, 'payment_failed', now() - interval '1 hour',
       'https://whop.com/billing/manage/mem_' || c || n, 0
from generate_series(1, 3) n, unnest(array['biz_batchon', 'biz_batchoff']) c;
insert into public.job_queue (case_id, company_id, channel, step, scheduled_for)
select id, company_id, 'push', 0, date_trunc('hour', now()) - interval '1 hour'
from public.recovery_cases where company_id in ('biz_batchon', 'biz_batchoff')
order by membership_id;

-- Notifications for biz_batchon only (the allow-list, no percentage).
update public.feature_flags set rollout_percent = 0, company_allowlist = array['biz_batchon']
where name = 'NOTIFICATIONS_ENABLED';

create temp table first_claim as select * from public.claim_due_jobs('w1', 4, 60);
select is((select array_agg(job_id order by job_id) from first_claim),
  (select (array_agg(id order by id))[1:4] from public.job_queue where company_id in ('biz_batchon', 'biz_batchoff')),
  'jobs due at the same moment are claimed in id order, a batch at a time');
select is((select count(*)::int from first_claim where company_id = 'biz_batchon' and status = 'claimed'),
  (select count(*)::int from first_claim where company_id = 'biz_batchon'),
  'the allow-listed company''s jobs in the batch are claimed');
select is((select count(*)::int from first_claim where company_id = 'biz_batchoff' and status = 'suppressed'
             and note = 'notifications are off for this company'),
  (select count(*)::int from first_claim where company_id = 'biz_batchoff'),
  '... and the other company''s, in the same batch, are suppressed with the reason');
select ok((select count(distinct company_id) = 2 from first_claim), 'the batch held both companies');

create temp table second_claim as select * from public.claim_due_jobs('w2', 4, 60);
select is((select count(*)::int from second_claim), 2, 'the next claim takes the two jobs left');
select is((select count(*)::int from second_claim s join first_claim f using (job_id)), 0,
  '... none of which the first claim had');
select is((select count(*)::int from public.job_queue
           where company_id = 'biz_batchoff' and status = 'suppressed' and last_error = 'notifications are off for this company'),
  3, 'every job of the company without notifications ends suppressed');

select is((select array_agg(a.attname order by k.n)
           from pg_index i
           cross join lateral unnest(i.indkey) with ordinality as k (attnum, n)
           join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
           where i.indexrelid = 'public.job_queue_due_idx'::regclass),
  array['scheduled_for', 'id']::name[],
  'the due index is ordered as the claim takes jobs (scheduled_for, then id): its limit stops after the batch');

select * from finish();
rollback;
