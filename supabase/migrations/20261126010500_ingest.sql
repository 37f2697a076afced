-- Storing webhook events and processing them: the one SQL call the webhook function makes, and the
-- backlog processor behind `deno task reprocess`. Storing never depends on the flags (nothing is
-- lost); processing happens only when WEBHOOK_PROCESSING_ENABLED is on for the company and
-- ROLLBACK_MODE is off. Both are idempotent.

-- p_event: the normalised event (the webhook function's NormalizedEvent, snake_case), with PII
-- already encrypted: {id, company_id, company_title, format, api_version, raw_type, type,
-- occurred_at, membership_id, user_id, payment_id, product_id, amount_minor, currency,
-- cancel_at_period_end, recovery_url, manage_url, payload_ciphertext,
-- member: {email_ciphertext, name_ciphertext, username_ciphertext, email_blind_index}}.
-- p_process: false when the environment forces processing off.
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
    product_id, amount_minor, currency, cancel_at_period_end, recovery_url, manage_url, occurred_at, payload_ciphertext)
  values (v_id, v_company, p_event ->> 'type', p_event ->> 'raw_type', p_event ->> 'api_version',
    coalesce(p_event ->> 'format', 'v1'), v_membership, v_user, p_event ->> 'payment_id', p_event ->> 'product_id',
    (p_event ->> 'amount_minor')::bigint, p_event ->> 'currency', (p_event ->> 'cancel_at_period_end')::boolean,
    p_event ->> 'recovery_url', p_event ->> 'manage_url', v_occurred, p_event ->> 'payload_ciphertext')
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

-- Processes stored, unprocessed events with occurred_at >= p_since, oldest first, one membership at
-- a time, up to p_limit memberships per call (callers loop until `remaining` is 0). Companies for
-- which processing is off are skipped and stay unprocessed.
create or replace function public.process_pending_events(p_since timestamptz default '-infinity', p_limit integer default 200)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  m record;
  memberships integer := 0;
  events_done bigint := 0;
  skipped integer := 0;
  n bigint;
begin
  for m in
    select ev.company_id, ev.membership_id, count(*) as pending
    from public.events ev
    where ev.processed_at is null and ev.occurred_at >= p_since and ev.membership_id is not null
    group by ev.company_id, ev.membership_id
    order by min(ev.occurred_at), ev.company_id, ev.membership_id
    limit p_limit
  loop
    if private.flag_enabled('WEBHOOK_PROCESSING_ENABLED', m.company_id) then
      perform private.process_membership(m.company_id, m.membership_id);
      memberships := memberships + 1;
      events_done := events_done + m.pending;
    else
      skipped := skipped + 1;
    end if;
  end loop;

  -- Events that belong to no membership (one-time payments, other objects) have nothing to replay.
  update public.events ev set processed_at = now()
  where ev.processed_at is null and ev.occurred_at >= p_since and ev.membership_id is null
    and private.flag_enabled('WEBHOOK_PROCESSING_ENABLED', ev.company_id);
  get diagnostics n = row_count;
  events_done := events_done + n;

  return jsonb_build_object(
    'memberships', memberships,
    'events', events_done,
    'skipped_memberships', skipped,
    'remaining', (select count(*) from public.events ev
                  where ev.processed_at is null and ev.occurred_at >= p_since
                    and private.flag_enabled('WEBHOOK_PROCESSING_ENABLED', ev.company_id)));
end
$$;

revoke execute on function public.ingest_webhook_event(jsonb, boolean), public.process_pending_events(timestamptz, integer)
  from public, anon, authenticated;
grant execute on function public.ingest_webhook_event(jsonb, boolean), public.process_pending_events(timestamptz, integer)
  to service_role;
