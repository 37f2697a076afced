-- Webhook delivery counters per minute, for the ops health, metrics and alerts (web/ops): duplicates
-- (a redelivery of a stored event, otherwise invisible) and rejections by reason. Counts only, never
-- payloads. Per minute so that rates cover exactly the last hour; kept 7 days (a cron job trims).
-- The daily `webhook_rejections` table stays as it is. Not tenant data: RLS is forced with no policy.

create table public.webhook_counters (
  minute timestamptz not null,
  kind text not null constraint webhook_counters_kind_valid check (kind in ('duplicate', 'rejected')),
  -- The rejection reason; '' for duplicates.
  reason text not null default '' constraint webhook_counters_reason_length check (char_length(reason) <= 50),
  count bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (minute, kind, reason)
);

alter table public.webhook_counters enable row level security;
alter table public.webhook_counters force row level security;
revoke all on public.webhook_counters from public, anon, authenticated;
grant all on public.webhook_counters to service_role;

create or replace function private.count_webhook(p_kind text, p_reason text default '') returns void
language sql
set search_path = ''
as $$
  insert into public.webhook_counters as w (minute, kind, reason, count)
  values (date_trunc('minute', now()), p_kind, coalesce(p_reason, ''), 1)
  on conflict (minute, kind, reason) do update set count = w.count + 1, updated_at = now()
$$;

create or replace function private.trim_webhook_counters(keep interval default interval '7 days') returns bigint
language plpgsql
set search_path = ''
as $$
declare
  removed bigint;
begin
  delete from public.webhook_counters where minute < now() - keep;
  get diagnostics removed = row_count;
  return removed;
end
$$;

revoke execute on function private.count_webhook(text, text), private.trim_webhook_counters(interval)
  from public, anon, authenticated;
grant execute on function private.count_webhook(text, text), private.trim_webhook_counters(interval) to service_role;

-- Unchanged from 20261126010100_webhook_guards.sql but for the per-minute count.
create or replace function private.record_webhook_rejection(p_reason text) returns void
language sql
set search_path = ''
as $$
  insert into public.webhook_rejections as r (reason, count) values (p_reason, 1)
  on conflict (day, reason) do update set count = r.count + 1, updated_at = now();
  select private.count_webhook('rejected', p_reason);
$$;

-- Unchanged from 20261126010500_ingest.sql but for counting duplicates.
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

select cron.schedule('churn-saver-trim-webhook-counters', '23 * * * *', 'select private.trim_webhook_counters()');
