-- A batch's lease lasts while the batch works (issue 11). Before, a claim's lease was never
-- extended: a batch slower than DISPATCH_LEASE_SECONDS (a slow Whop) was claimed again by another
-- live dispatcher while its first holder was still sending it, and both sent. Now the dispatcher
-- holds its jobs' leases:
-- * private.hold_job_leases extends the leases of the given jobs that p_worker still holds and
--   returns those: the dispatcher calls it for its unfinished jobs every third of the lease (a
--   heartbeat), and for one job right before each call that may act at Whop, so that the call
--   starts with a whole lease ahead of it. A job not returned is someone else's: it is not sent.
--   The holder is the claim's own token (claimed_by), so a job claimed again, even by the same
--   dispatcher, is a different holder. An expired lease that nobody has claimed again is still
--   its holder's (a claim would have changed claimed_by), so it may be extended;
-- * private.release_jobs hands back claimed jobs that a round did not start before its time
--   budget ran out: pending and due at once, the claim's attempt taken back, nothing recorded.

create function private.hold_job_leases(
  p_worker text, p_job_ids bigint[], p_lease_seconds integer, p_now timestamptz default now()
)
returns setof bigint
language sql
set search_path = ''
as $$
  update public.job_queue
  set lease_expires_at = p_now + make_interval(secs => p_lease_seconds)
  where id = any (p_job_ids) and status = 'claimed' and claimed_by = p_worker
  returning id
$$;

create function private.release_jobs(p_worker text, p_job_ids bigint[])
returns integer
language sql
set search_path = ''
as $$
  with released as (
    update public.job_queue
    set status = 'pending', attempts = attempts - 1, lease_expires_at = null, claimed_by = null
    where id = any (p_job_ids) and status = 'claimed' and claimed_by = p_worker
    returning 1
  )
  select count(*)::integer from released
$$;

revoke execute on function
  private.hold_job_leases(text, bigint[], integer, timestamptz),
  private.release_jobs(text, bigint[])
from public, anon, authenticated;
grant execute on function
  private.hold_job_leases(text, bigint[], integer, timestamptz),
  private.release_jobs(text, bigint[])
to service_role;
