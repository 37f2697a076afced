-- Local demo data only (scripts/dev.sh loads it; production never does). Idempotent: fixed ids,
-- `on conflict do nothing`. Member PII is not seeded here: it is stored encrypted by the ingest.

-- One transaction: all relative times below share one now(), and a failed load leaves nothing half done.
begin;

-- Locally everything is on; a production database starts dark (see the feature_flags migration).
update public.feature_flags set enabled = (name <> 'ROLLBACK_MODE'), updated_by = 'seed', updated_at = now()
where updated_by = 'migration';

insert into public.companies (company_id, title) values
  ('biz_demo', 'Demo Academy'),
  ('biz_demo_other', 'Another Creator Co')
on conflict (company_id) do nothing;

-- The demo company has been set up (its creator chose the time zone and the free days); the other one
-- has not, so /dev/login shows both states of the set-up checklist.
insert into public.company_settings (company_id, experience_id, time_zone, send_hour, time_zone_chosen_at,
                                     incentive_chosen_at) values
  ('biz_demo', 'exp_demo', 'Europe/Berlin', 10, now() - interval '60 days', now() - interval '60 days'),
  ('biz_demo_other', null, 'America/New_York', 9, null, null)
on conflict (company_id) do nothing;

-- One case in every state for the demo company, one open case for the other company (tenancy).
-- As Whop sends them (WHOP.md 1.1): payment events carry no recovery_url or manage_url, so the open case's
-- link leads to the manage_url the dispatcher fetched with GET /memberships/{id} (the sandbox's), and
-- the case keeps the 3 free days it was offered, granted after its first delivered nudge.
insert into public.recovery_cases
  (id, company_id, membership_id, user_id, status, reason, opened_at, closed_at, attribution,
   amount_at_risk_minor, recovered_amount_minor, currency, payment_id, manage_url, opening_event_id, closing_event_id)
values
  ('00000000-0000-4000-8000-000000000001', 'biz_demo', 'mem_demo_open', 'user_demo_1', 'open', 'payment_failed',
   now() - interval '1 day', null, null, 2900, null, 'usd', 'pay_demo_1', null, 'msg_demo_1', null),
  ('00000000-0000-4000-8000-000000000002', 'biz_demo', 'mem_demo_click', 'user_demo_2', 'recovered', 'payment_failed',
   now() - interval '6 days', now() - interval '4 days', 'click_through', 4900, 4900, 'usd', 'pay_demo_2', null, 'msg_demo_2', 'msg_demo_2b'),
  ('00000000-0000-4000-8000-000000000003', 'biz_demo', 'mem_demo_nudged', 'user_demo_3', 'recovered', 'action_required',
   now() - interval '9 days', now() - interval '7 days', 'nudged', 1900, 1900, 'eur', 'pay_demo_3', null, 'msg_demo_3', 'msg_demo_3b'),
  ('00000000-0000-4000-8000-000000000004', 'biz_demo', 'mem_demo_organic', 'user_demo_4', 'recovered', 'cancel_scheduled',
   now() - interval '12 days', now() - interval '11 days', 'organic', 9900, 9900, 'usd', null, null, 'msg_demo_4', 'msg_demo_4b'),
  ('00000000-0000-4000-8000-000000000005', 'biz_demo', 'mem_demo_lost', 'user_demo_5', 'lost', 'payment_failed',
   now() - interval '8 days', now() - interval '3 days', null, 2900, null, 'usd', 'pay_demo_5', null, 'msg_demo_5', 'msg_demo_5b'),
  ('00000000-0000-4000-8000-000000000006', 'biz_demo', 'mem_demo_expired', 'user_demo_6', 'expired', 'payment_failed',
   now() - interval '20 days', now() - interval '6 days', null, 2900, null, 'usd', 'pay_demo_6', null, 'msg_demo_6', null),
  ('00000000-0000-4000-8000-000000000007', 'biz_demo', 'mem_demo_dismissed', 'user_demo_7', 'dismissed', 'membership_deactivated',
   now() - interval '5 days', now() - interval '5 days', null, null, null, null, null, null, 'msg_demo_7', null),
  ('00000000-0000-4000-8000-000000000008', 'biz_demo', 'mem_demo_refunded', 'user_demo_8', 'lost', 'payment_failed',
   now() - interval '7 days', now() - interval '6 days', null, 3900, null, 'usd', 'pay_demo_8', null, 'msg_demo_8', 'msg_demo_8b'),
  ('00000000-0000-4000-8000-000000000101', 'biz_demo_other', 'mem_other_open', 'user_other_1', 'open', 'payment_failed',
   now() - interval '2 days', null, null, 1500, null, 'gbp', 'pay_other_1', null, 'msg_other_1', null)
on conflict (id) do nothing;

update public.recovery_cases
set fetched_manage_url = 'https://whop.com/billing/manage/mem_demo_open', manage_url_looked_up_at = opened_at
where id = '00000000-0000-4000-8000-000000000001' and fetched_manage_url is null;
update public.recovery_cases set incentive_free_days = case when status = 'open' then 3 else 0 end
where company_id in ('biz_demo', 'biz_demo_other') and incentive_free_days is null;
-- A refunded member's case is lost and says why; it is never counted as recovered.
update public.recovery_cases set closed_by = 'refund'
where id = '00000000-0000-4000-8000-000000000008' and closed_by is null;

-- The events the cases came from, so that a new event for one of these memberships replays to the
-- same cases (see the case engine migration).
insert into public.events (id, company_id, type, raw_type, api_version, membership_id, user_id, payment_id,
                           amount_minor, currency, cancel_at_period_end, occurred_at, received_at, processed_at)
select e.id, rc.company_id, e.type, e.type, 'v1', rc.membership_id, rc.user_id, rc.payment_id,
       rc.amount_at_risk_minor, rc.currency,
       case e.id when 'msg_demo_4' then true when 'msg_demo_4b' then false end,
       e.at, e.at, e.at
from (values
  ('msg_demo_1', '00000000-0000-4000-8000-000000000001'::uuid, 'payment.failed', now() - interval '1 day'),
  ('msg_demo_2', '00000000-0000-4000-8000-000000000002'::uuid, 'payment.failed', now() - interval '6 days'),
  ('msg_demo_2b', '00000000-0000-4000-8000-000000000002'::uuid, 'payment.succeeded', now() - interval '4 days'),
  ('msg_demo_3', '00000000-0000-4000-8000-000000000003'::uuid, 'payment.requires_action', now() - interval '9 days'),
  ('msg_demo_3b', '00000000-0000-4000-8000-000000000003'::uuid, 'payment.succeeded', now() - interval '7 days'),
  ('msg_demo_4', '00000000-0000-4000-8000-000000000004'::uuid, 'membership.cancel_at_period_end_changed', now() - interval '12 days'),
  ('msg_demo_4b', '00000000-0000-4000-8000-000000000004'::uuid, 'membership.cancel_at_period_end_changed', now() - interval '11 days'),
  ('msg_demo_5', '00000000-0000-4000-8000-000000000005'::uuid, 'payment.failed', now() - interval '8 days'),
  ('msg_demo_5b', '00000000-0000-4000-8000-000000000005'::uuid, 'membership.deactivated', now() - interval '3 days'),
  ('msg_demo_6', '00000000-0000-4000-8000-000000000006'::uuid, 'payment.failed', now() - interval '20 days'),
  ('msg_demo_7', '00000000-0000-4000-8000-000000000007'::uuid, 'membership.deactivated', now() - interval '5 days'),
  ('msg_demo_8', '00000000-0000-4000-8000-000000000008'::uuid, 'payment.failed', now() - interval '7 days'),
  ('msg_demo_8b', '00000000-0000-4000-8000-000000000008'::uuid, 'refund.created', now() - interval '6 days'),
  ('msg_other_1', '00000000-0000-4000-8000-000000000101'::uuid, 'payment.failed', now() - interval '2 days')
) as e(id, case_id, type, at)
join public.recovery_cases rc on rc.id = e.case_id
on conflict (id) do nothing;

-- What Whop says about each failure: a renewal (not a first checkout) and the card's answer.
update public.events set billing_reason = 'subscription_cycle',
  failure_message = case when type = 'payment.failed' then 'Your card has insufficient funds.' end,
  payments_failed = case when type = 'payment.failed' then 1 end
where company_id in ('biz_demo', 'biz_demo_other') and type in ('payment.failed', 'payment.requires_action')
  and billing_reason is null;
update public.events set cancel_option = 'too_expensive', membership_status = 'active'
where id = 'msg_demo_4' and cancel_option is null;

-- A failed first checkout is stored, and is no case: that person never was a member.
insert into public.events (id, company_id, type, raw_type, api_version, membership_id, user_id, payment_id,
                           amount_minor, currency, billing_reason, failure_message, occurred_at, received_at,
                           processed_at)
values ('msg_demo_first_checkout', 'biz_demo', 'payment.failed', 'payment.failed', 'v1', 'mem_demo_first_checkout',
        'user_demo_9', 'pay_demo_9', 4900, 'usd', 'subscription_create', 'Your card was declined.',
        now() - interval '2 days', now() - interval '2 days', now() - interval '2 days')
on conflict (id) do nothing;

-- Nudge jobs: the open case has day 0 sent and days 2 and 4 pending; closed cases show how closing
-- cancels what was still pending.
insert into public.job_queue (case_id, company_id, channel, step, status, scheduled_for, attempts, sent_at)
select rc.id, rc.company_id, j.channel, j.step, j.status, rc.opened_at + make_interval(days => j.offset_days),
       case when j.status = 'sent' then 1 else 0 end,
       case when j.status = 'sent' then rc.opened_at + make_interval(days => j.offset_days) end
from public.recovery_cases rc
join (values
  ('00000000-0000-4000-8000-000000000001'::uuid, 'push', 0, 0, 'sent'),
  ('00000000-0000-4000-8000-000000000001'::uuid, 'dm', 0, 0, 'sent'),
  ('00000000-0000-4000-8000-000000000001'::uuid, 'incentive', 0, 0, 'sent'),
  ('00000000-0000-4000-8000-000000000001'::uuid, 'push', 1, 2, 'pending'),
  ('00000000-0000-4000-8000-000000000001'::uuid, 'dm', 1, 2, 'pending'),
  ('00000000-0000-4000-8000-000000000001'::uuid, 'push', 2, 4, 'pending'),
  ('00000000-0000-4000-8000-000000000001'::uuid, 'dm', 2, 4, 'pending'),
  ('00000000-0000-4000-8000-000000000002'::uuid, 'push', 0, 0, 'sent'),
  ('00000000-0000-4000-8000-000000000002'::uuid, 'dm', 0, 0, 'sent'),
  ('00000000-0000-4000-8000-000000000002'::uuid, 'push', 1, 2, 'cancelled'),
  ('00000000-0000-4000-8000-000000000003'::uuid, 'dm', 0, 0, 'sent'),
  ('00000000-0000-4000-8000-000000000005'::uuid, 'push', 0, 0, 'failed'),
  ('00000000-0000-4000-8000-000000000005'::uuid, 'dm', 0, 0, 'dead'),
  ('00000000-0000-4000-8000-000000000008'::uuid, 'dm', 0, 0, 'sent'),
  ('00000000-0000-4000-8000-000000000008'::uuid, 'dm', 1, 2, 'cancelled'),
  ('00000000-0000-4000-8000-000000000101'::uuid, 'dm', 0, 0, 'sent')
) as j(case_id, channel, step, offset_days, status) on j.case_id = rc.id
on conflict do nothing;

insert into public.notification_attempts (job_id, company_id, status, http_status, latency_ms, error)
select j.id, j.company_id,
       case j.status when 'sent' then 'sent' when 'failed' then 'failed' else 'dead' end,
       case j.status when 'sent' then 200 when 'failed' then 400 else 503 end,
       120,
       case j.status when 'failed' then 'invalid experience' when 'dead' then 'Whop API unavailable' end
from public.job_queue j
where j.status in ('sent', 'failed', 'dead')
  and not exists (select 1 from public.notification_attempts a where a.job_id = j.id);

insert into public.audit_log (company_id, actor, action, target_type, target_id, after)
select 'biz_demo', 'user_demo_admin', 'case.dismiss', 'recovery_case', '00000000-0000-4000-8000-000000000007',
       '{"status": "dismissed"}'::jsonb
where not exists (select 1 from public.audit_log where company_id = 'biz_demo' and action = 'case.dismiss');

-- The click behind the click-through recovery.
insert into public.link_clicks (company_id, case_id, clicked_at)
select 'biz_demo', '00000000-0000-4000-8000-000000000002', now() - interval '5 days'
where not exists (select 1 from public.link_clicks where case_id = '00000000-0000-4000-8000-000000000002');

-- What each demo membership is for, as Whop's events name it. The members' names and emails are
-- written by scripts/local/demo_members.ts: their ciphertexts depend on the stack's ENCRYPTION_KEYS.
update public.events set product_title = case when membership_id in ('mem_demo_click', 'mem_demo_organic',
    'mem_demo_expired') then 'Community Access' else 'Pro Trading Signals' end
where company_id = 'biz_demo' and product_title is null;
update public.events set product_title = 'Other Academy Membership'
where company_id = 'biz_demo_other' and product_title is null;

commit;
