-- A point-in-time restore must not end a rollback (issue 11): restoring to a moment before
-- `rollout rollback` brings ROLLBACK_MODE back off, and dispatch would resume at once. `deno task
-- pitr restore` calls this before anyone can connect to the restored database: ROLLBACK_MODE on,
-- audited like a rollout command (action pitr.restore, the four flags before and after), until an
-- operator runs `deno task rollout resume`. The other flags stay as restored, so resume returns
-- to the phase of the restore point. Returns the audit_log id.

create or replace function private.hold_processing_after_restore(
  p_actor text, p_restored_to timestamptz, p_details jsonb default '{}'::jsonb
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_before jsonb;
  v_after jsonb;
  v_was_on boolean;
  v_audit bigint;
begin
  select jsonb_object_agg(f.name, jsonb_build_object(
           'enabled', f.enabled, 'rollout_percent', f.rollout_percent, 'company_allowlist', to_jsonb(f.company_allowlist))),
         bool_or(f.name = 'ROLLBACK_MODE' and f.enabled)
  into v_before, v_was_on
  from (select * from public.feature_flags order by name for update) f;
  if v_before is null or not v_before ? 'ROLLBACK_MODE' then
    raise exception 'public.feature_flags has no ROLLBACK_MODE row: are the migrations applied?' using errcode = 'P0002';
  end if;

  if not v_was_on then
    update public.feature_flags set enabled = true, updated_by = p_actor, updated_at = now()
    where name = 'ROLLBACK_MODE';
  end if;
  v_after := jsonb_set(v_before, '{ROLLBACK_MODE,enabled}', 'true'::jsonb);

  insert into public.audit_log (company_id, actor, action, target_type, target_id, before, after)
  values (null, p_actor, 'pitr.restore', 'feature_flags', case when v_was_on then null else 'ROLLBACK_MODE' end,
          jsonb_build_object('flags', v_before),
          jsonb_build_object('flags', v_after, 'restored_to', p_restored_to) || coalesce(p_details, '{}'::jsonb))
  returning id into v_audit;
  return v_audit;
end
$$;

revoke execute on function private.hold_processing_after_restore(text, timestamptz, jsonb) from public, anon, authenticated;
grant execute on function private.hold_processing_after_restore(text, timestamptz, jsonb) to service_role;
