// Before messages go out, every case they are about gets somewhere to send the member. Payment
// events rarely carry one (no recovery_url, no manage_url: WHOP.md 1.1), so the membership is read
// from Whop once and its manage_url kept with the case. A failed read is not an error: the message
// still goes with its link (which lands on a page that leads the member into Whop); only when Whop
// answered and gave nothing does the message go without a link.
import type { Sql } from "../_shared/db.ts";
import { log } from "../_shared/log.ts";
import type { createWhopClient } from "../_shared/whop/client.ts";
import type { ClaimedJob } from "./send_job.ts";

/** Reads at most this many memberships at once, so a slow Whop cannot hold many connections. */
const READ_CONCURRENCY = 4;

/** Returns the cases Whop definitively gave nowhere to send the member: their messages go without a
 * link. A case whose read failed keeps its link: /r/ looks the destination up again when tapped. */
export async function ensureDestinations(
  sql: Sql,
  whop: ReturnType<typeof createWhopClient>,
  jobs: readonly ClaimedJob[],
): Promise<Set<string>> {
  const caseIds = [...new Set(jobs.filter((job) => job.channel !== "incentive").map((job) => job.case_id))];
  if (caseIds.length === 0) return new Set();
  const missing = await sql<{ case_id: string; membership_id: string }[]>`
    select case_id, membership_id from private.cases_without_destination(${caseIds}::uuid[])`;
  for (let i = 0; i < missing.length; i += READ_CONCURRENCY) {
    await Promise.all(missing.slice(i, i + READ_CONCURRENCY).map((row) => remember(sql, whop, row)));
  }
  const nowhere = await sql<{ id: string }[]>`
    select rc.id from public.recovery_cases rc
    where rc.id = any (${caseIds}::uuid[]) and rc.manage_url_looked_up_at is not null
      and private.link_destination(rc.id) is null`;
  return new Set(nowhere.map((row) => row.id));
}

async function remember(
  sql: Sql,
  whop: ReturnType<typeof createWhopClient>,
  row: { case_id: string; membership_id: string },
): Promise<void> {
  const outcome = await whop.getMembership(row.membership_id);
  // Only a definitive answer is remembered; after a timeout, 429 or 5xx the next round asks again.
  const definitive = outcome.ok || (outcome.kind === "permanent" && outcome.status === 404);
  if (!definitive) return;
  const manageUrl = outcome.ok ? (outcome.body as { manage_url?: unknown }).manage_url : null;
  const [{ kept }] = await sql<{ kept: boolean }[]>`
    select private.remember_manage_url(${row.case_id}::uuid, ${
    typeof manageUrl === "string" ? manageUrl : null
  })
      as kept`;
  if (!kept) {
    log.info("no usable manage_url for the case's membership", {
      case_id: row.case_id,
      status: outcome.ok ? 200 : outcome.status,
    });
  }
}
