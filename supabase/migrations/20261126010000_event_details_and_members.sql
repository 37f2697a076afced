-- What the case engine needs from each event beyond the core columns, the encrypted raw payload,
-- and members: the one place member PII lives, encrypted (AES-256-GCM, by the ingest function),
-- with a keyed blind index of the email for exact search. No plaintext PII is ever stored.

alter table public.events
  add column format text not null default 'v1' constraint events_format_valid check (format in ('v1', 'legacy')),
  add column product_id text,
  add column cancel_at_period_end boolean,
  add column recovery_url text constraint events_recovery_url_length check (char_length(recovery_url) <= 2000),
  add column manage_url text constraint events_manage_url_length check (char_length(manage_url) <= 2000),
  -- "v1.<key id>.<iv>.<ciphertext>" of the raw body; purged with the event after 30 days.
  add column payload_ciphertext text;

create table public.members (
  company_id text not null references public.companies (company_id) on delete cascade,
  user_id text not null constraint members_user_id_length check (char_length(user_id) between 1 and 200),
  email_ciphertext text,
  name_ciphertext text,
  username_ciphertext text,
  -- "<key id>.<HMAC>" of the normalised email under the key that wrote it.
  email_blind_index text,
  -- Event time of the data held, so an older event arriving late never overwrites newer details.
  last_event_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (company_id, user_id)
);

create index members_company_email_idx on public.members (company_id, email_blind_index);

create trigger members_set_updated_at before update on public.members
  for each row execute function private.set_updated_at();

select private.apply_tenant_rls('public.members');

revoke all on public.members from public, anon, authenticated;
grant select on public.members to authenticated;
grant all on public.members to service_role;
