-- Cheaper ingest (issue 12 item 3, measured by `deno task bench ingest`):
-- * A redelivery is recognised first, with one primary-key probe, before anything else is done with
--   it: it no longer looks up the company and its settings, checks the flag, extracts two dozen
--   fields from the row and runs the events CHECKs only to meet the conflict at the end.
-- * A redelivery no longer counts itself here: private.count_webhook('duplicate') upserted ONE row
--   per minute in webhook_counters that every concurrent duplicate had to lock in turn (and wait for
--   the previous one's commit). The function counts duplicates in memory and writes the sum about
--   once a second (private.record_webhook_duplicates, 20261203002010), like rejections; the figures
--   ops reads (public.ops_webhook_figures) keep their meaning.
-- * A processed event is stored processed: processed_at is set by the insert instead of by a second
--   UPDATE of the row it just wrote (which, changing the column of the partial index
--   events_unprocessed_idx, could not be a HOT update and added an entry to each of the table's
--   indexes). processed_at = now() is the transaction's time either way; the case engine does not
--   read it, and process_membership still marks the membership's older unprocessed events.
-- As in 20261203001110_ingest_without_company_writes.sql (the latest definition) but for those lines.
-- `create or replace` keeps the function's grants (20261126010500_ingest.sql: the service role only).
create or replace function public.ingest_webhook_event(p_event jsonb, p_process boolean default true) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_id text := p_event ->> 'id';
  v_company text := p_event ->> 'company_id';
  v_membership text := p_event ->> 'membership_id';
  v_user text := p_event ->> 'user_id';
  v_occurred timestamptz;
  v_member jsonb;
  v_stored text;
  v_process boolean;
begin
  -- Two concurrent deliveries of one id can both pass this check: the insert's conflict below
  -- settles which one stored it.
  if exists (select 1 from public.events where id = v_id) then
    return jsonb_build_object('status', 'duplicate', 'id', v_id, 'processed', false);
  end if;
  v_occurred := (p_event ->> 'occurred_at')::timestamptz;
  v_member := p_event -> 'member';

  -- A company seen for the first time is provisioned with default settings. Looked up first: an
  -- insert, even one that ends in `on conflict do nothing`, evaluates the row's CHECK constraints
  -- and takes a row lock, and almost every event belongs to a company that already exists.
  if not exists (select 1 from public.companies where company_id = v_company) then
    insert into public.companies (company_id, title) values (v_company, p_event ->> 'company_title')
    on conflict (company_id) do nothing;
  end if;
  -- Writes only while the title is still unknown (a primary-key read otherwise).
  update public.companies set title = p_event ->> 'company_title'
  where company_id = v_company and title is null and p_event ->> 'company_title' is not null;
  if not exists (select 1 from public.company_settings where company_id = v_company) then
    insert into public.company_settings (company_id) values (v_company) on conflict (company_id) do nothing;
  end if;

  v_process := p_process and private.flag_enabled('WEBHOOK_PROCESSING_ENABLED', v_company);

  insert into public.events (id, company_id, type, raw_type, api_version, format, membership_id, user_id, payment_id,
    product_id, product_title, amount_minor, currency, cancel_at_period_end, recovery_url, manage_url, occurred_at,
    billing_reason, failure_message, payments_failed, next_payment_attempt, membership_status, cancel_option,
    cancellation_reason_ciphertext, renewal_period_end, payload_ciphertext, processed_at)
  values (v_id, v_company, p_event ->> 'type', p_event ->> 'raw_type', p_event ->> 'api_version',
    coalesce(p_event ->> 'format', 'v1'), v_membership, v_user, p_event ->> 'payment_id', p_event ->> 'product_id',
    p_event ->> 'product_title',
    (p_event ->> 'amount_minor')::bigint, p_event ->> 'currency', (p_event ->> 'cancel_at_period_end')::boolean,
    p_event ->> 'recovery_url', p_event ->> 'manage_url', v_occurred,
    p_event ->> 'billing_reason', p_event ->> 'failure_message', (p_event ->> 'payments_failed')::integer,
    (p_event ->> 'next_payment_attempt')::timestamptz, p_event ->> 'membership_status', p_event ->> 'cancel_option',
    p_event ->> 'cancellation_reason_ciphertext', (p_event ->> 'renewal_period_end')::timestamptz,
    p_event ->> 'payload_ciphertext', case when v_process then now() end)
  on conflict (id) do nothing
  returning id into v_stored;

  if v_stored is null then
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

  if v_process and v_membership is not null then
    perform private.process_membership(v_company, v_membership);
  end if;
  return jsonb_build_object('status', 'stored', 'id', v_id, 'processed', v_process);
end
$$;

revoke execute on function public.ingest_webhook_event(jsonb, boolean) from public, anon, authenticated;
grant execute on function public.ingest_webhook_event(jsonb, boolean) to service_role;
