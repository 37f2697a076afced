-- What a churn product needs to know about each event, so the creator sees why a case exists and the
-- case engine can tell a renewal from a first checkout (WHOP.md 1.1, 4): the payment's billing
-- reason, Whop's failure message, its retry count and next retry, the membership's status, the
-- cancellation option the member picked and the end of the paid period, stored in the clear (Whop's
-- codes and texts, not member data); and the member's cancellation reason, in their own words, which
-- is PII: stored only encrypted (AES-256-GCM by the webhook function, bound to the event id and the
-- field, like member names) and purged with the event after 30 days.
-- The webhook function already clips and checks each value (normalize.ts); the constraints say the
-- same, so a bug there cannot store a long text or a stray word.

alter table public.events
  add column billing_reason text
    constraint events_billing_reason_token check (billing_reason ~ '^[a-z][a-z0-9_]{0,39}$'),
  add column failure_message text
    constraint events_failure_message_length check (char_length(failure_message) between 1 and 500),
  add column payments_failed integer
    constraint events_payments_failed_range check (payments_failed between 0 and 1000),
  add column next_payment_attempt timestamptz,
  add column membership_status text
    constraint events_membership_status_token check (membership_status ~ '^[a-z][a-z0-9_]{0,39}$'),
  add column cancel_option text
    constraint events_cancel_option_token check (cancel_option ~ '^[a-z][a-z0-9_]{0,39}$'),
  -- "v1.<key id>.<iv>.<ciphertext>" of at most 1000 characters of text.
  add column cancellation_reason_ciphertext text
    constraint events_cancellation_reason_ciphertext_length check (char_length(cancellation_reason_ciphertext) <= 8000),
  add column renewal_period_end timestamptz;

-- As in 20261126040105_event_product_titles.sql, with the fields above stored too. `create or replace`
-- keeps the function's grants (20261126010500_ingest.sql: the service role only).
-- p_event adds: billing_reason, failure_message, payments_failed, next_payment_attempt,
-- membership_status, cancel_option, cancellation_reason_ciphertext, renewal_period_end.
create or replace function public.ingest_webhook_event(p_event jsonb, p_process boolean default true) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_id text := p_event ->> 'id';
  v_company text := p_event ->> 'company_id';
  v_membership text := p_event ->> 'membership_id';
  v_user text := p_event ->> 'user_id';
  v_occurred timestamptz := (p_event ->> 'occurred_at')::timestamptz;
  v_member jsonb := p_event -> 'member';
  v_stored text;
  v_process boolean;
begin
  -- A company seen for the first time is provisioned with default settings.
  insert into public.companies (company_id, title) values (v_company, p_event ->> 'company_title')
  on conflict (company_id) do nothing;
  update public.companies set title = p_event ->> 'company_title'
  where company_id = v_company and title is null and p_event ->> 'company_title' is not null;
  insert into public.company_settings (company_id) values (v_company) on conflict (company_id) do nothing;

  insert into public.events (id, company_id, type, raw_type, api_version, format, membership_id, user_id, payment_id,
    product_id, product_title, amount_minor, currency, cancel_at_period_end, recovery_url, manage_url, occurred_at,
    billing_reason, failure_message, payments_failed, next_payment_attempt, membership_status, cancel_option,
    cancellation_reason_ciphertext, renewal_period_end, payload_ciphertext)
  values (v_id, v_company, p_event ->> 'type', p_event ->> 'raw_type', p_event ->> 'api_version',
    coalesce(p_event ->> 'format', 'v1'), v_membership, v_user, p_event ->> 'payment_id', p_event ->> 'product_id',
    p_event ->> 'product_title',
    (p_event ->> 'amount_minor')::bigint, p_event ->> 'currency', (p_event ->> 'cancel_at_period_end')::boolean,
    p_event ->> 'recovery_url', p_event ->> 'manage_url', v_occurred,
    p_event ->> 'billing_reason', p_event ->> 'failure_message', (p_event ->> 'payments_failed')::integer,
    (p_event ->> 'next_payment_attempt')::timestamptz, p_event ->> 'membership_status', p_event ->> 'cancel_option',
    p_event ->> 'cancellation_reason_ciphertext', (p_event ->> 'renewal_period_end')::timestamptz,
    p_event ->> 'payload_ciphertext')
  on conflict (id) do nothing
  returning id into v_stored;

  if v_stored is null then
    perform private.count_webhook('duplicate');
    return jsonb_build_object('status', 'duplicate', 'id', v_id, 'processed', false);
  end if;

  -- The newest details of a member win, whatever order events arrive in.
  if v_user is not null and v_member is not null and jsonb_typeof(v_member) = 'object' then
    insert into public.members as m (company_id, user_id, email_ciphertext, name_ciphertext, username_ciphertext,
      email_blind_index, last_event_at)
    values (v_company, v_user, v_member ->> 'email_ciphertext', v_member ->> 'name_ciphertext',
      v_member ->> 'username_ciphertext', v_member ->> 'email_blind_index', v_occurred)
    on conflict (company_id, user_id) do update set
      email_ciphertext = coalesce(excluded.email_ciphertext, m.email_ciphertext),
      name_ciphertext = coalesce(excluded.name_ciphertext, m.name_ciphertext),
      username_ciphertext = coalesce(excluded.username_ciphertext, m.username_ciphertext),
      email_blind_index = coalesce(excluded.email_blind_index, m.email_blind_index),
      last_event_at = excluded.last_event_at
    where excluded.last_event_at >= m.last_event_at;
  end if;

  v_process := p_process and private.flag_enabled('WEBHOOK_PROCESSING_ENABLED', v_company);
  if v_process then
    if v_membership is not null then
      perform private.process_membership(v_company, v_membership);
    else
      update public.events set processed_at = now() where id = v_id;
    end if;
  end if;
  return jsonb_build_object('status', 'stored', 'id', v_id, 'processed', v_process);
end
$$;
