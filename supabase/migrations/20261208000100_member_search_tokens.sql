-- Member search by what a creator remembers (issue 13): a name prefix, an email prefix, a username.
-- members.search_tokens holds keyed tokens of each word's prefixes of the member's name, username and
-- email ("<key id>.<field tag>.<mac>", supabase/functions/_shared/crypto/search_tokens.ts), never the
-- words: an HMAC under the ring's blind-index key, bound to the company. The dashboard matches a typed
-- word with `search_tokens && <its tokens under every key>` through one GIN index.
--
-- ingest_webhook_event stores them with the member's other details. A newer event replaces the tokens
-- of the fields it carries (the tag says which field each token is of) and keeps the others, like the
-- coalesce of each ciphertext. As in 20261203002000_ingest_duplicates_first.sql (the latest
-- definition) but for the member upsert; `create or replace` keeps the grants (service role only).
-- Members stored before this migration have no tokens until their next event or `privacy rotate-keys`
-- (which writes them); the search still finds them by their complete email through the blind index.
alter table public.members add column search_tokens text[];

create index members_search_tokens_idx on public.members using gin (search_tokens);

-- The stored tokens with those of each field the new event carries replaced by its tokens: the field
-- tag is a token's second part. Unchanged fields give the same array, so the row can stay HOT.
create or replace function private.merge_search_tokens(p_stored text[], p_new text[]) returns text[]
language sql immutable
set search_path = ''
as $$
  select case
    when p_new is null then p_stored
    else coalesce(array(
      select t from unnest(p_stored) with ordinality s (t, n)
      where split_part(t, '.', 2) <> all (array(select distinct split_part(x, '.', 2) from unnest(p_new) x))
      order by n), '{}') || p_new
  end
$$;

revoke execute on function private.merge_search_tokens(text[], text[]) from public, anon, authenticated;
grant execute on function private.merge_search_tokens(text[], text[]) to service_role;

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
  -- The newest details of a member win, whatever order events arrive in.
  if v_user is not null and v_member is not null and jsonb_typeof(v_member) = 'object' then
    insert into public.members as m (company_id, user_id, email_ciphertext, name_ciphertext, username_ciphertext,
      email_blind_index, search_tokens, last_event_at)
    values (v_company, v_user, v_member ->> 'email_ciphertext', v_member ->> 'name_ciphertext',
      v_member ->> 'username_ciphertext', v_member ->> 'email_blind_index',
      case when jsonb_typeof(v_member -> 'search_tokens') = 'array'
        then array(select jsonb_array_elements_text(v_member -> 'search_tokens')) end,
      v_occurred)
    on conflict (company_id, user_id) do update set
      email_ciphertext = coalesce(excluded.email_ciphertext, m.email_ciphertext),
      name_ciphertext = coalesce(excluded.name_ciphertext, m.name_ciphertext),
      username_ciphertext = coalesce(excluded.username_ciphertext, m.username_ciphertext),
      email_blind_index = coalesce(excluded.email_blind_index, m.email_blind_index),
      search_tokens = private.merge_search_tokens(m.search_tokens, excluded.search_tokens),
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
