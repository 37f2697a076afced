-- Webhook events as received from Whop.
-- The primary key is the webhook id (`msg_...`, or the legacy event id) so a redelivery is a no-op.
-- Normalised columns are what SQL processes; PII and the raw payload are stored encrypted (ingest issue).

create table public.events (
  id text primary key constraint events_id_length check (char_length(id) between 1 and 200),
  company_id text not null references public.companies (company_id) on delete cascade,
  -- Normalised dotted type (`payment.failed`); `raw_type` keeps what Whop sent.
  type text not null constraint events_type_length check (char_length(type) between 1 and 100),
  raw_type text not null constraint events_raw_type_length check (char_length(raw_type) between 1 and 100),
  api_version text not null,
  membership_id text,
  user_id text,
  payment_id text,
  amount_minor bigint,
  currency text constraint events_currency_format check (currency ~ '^[a-z]{3}$'),
  -- Event time drives the state machine; arrival time only feeds health metrics.
  occurred_at timestamptz not null,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  processing_error text,
  created_at timestamptz not null default now()
);

create index events_company_occurred_idx on public.events (company_id, occurred_at desc);
create index events_company_membership_idx on public.events (company_id, membership_id, occurred_at);
-- Reprocessing and the "processing off" backlog read unprocessed events in event-time order.
create index events_unprocessed_idx on public.events (occurred_at) where processed_at is null;
create index events_received_idx on public.events (received_at);

select private.apply_tenant_rls('public.events');

revoke all on public.events from public, anon, authenticated;
-- Events are written only by the ingest (service role); creators may read their own.
grant select on public.events to authenticated;
grant all on public.events to service_role;
