// What the CSV export adds to a case row beyond the list's columns: the member's name, the product,
// the nudges delivered, and the case's times as the company's clock reads them. The times are
// formatted in SQL (`to_char ... at time zone`): a 300,000-row export would otherwise run Intl's
// formatter close to a million times in the dashboard's process, and the zone names are Postgres's
// own, the ones company_settings.time_zone is checked against.
import type { TenantSql } from "../lib/tenant.ts";
import { productTitle } from "./case_why.ts";

export interface CaseExportExtras {
  name_ciphertext: string | null;
  /** The creator's name for the product (clear text, not member data), as the list shows it. */
  product_title: string | null;
  /** Push notifications and direct messages delivered to the member for this case (free days are not nudges). */
  nudges_sent: number;
  /** "2026-12-07 14:05" in the company's time zone; minutes, like the dashboard's pages. */
  opened_local: string;
  closed_local: string | null;
  last_nudge_local: string | null;
}

/** The company's time zone (a missing settings row has the column default, UTC), with JIT turned off
 * for the export's transaction: the plan reads the index in order and the rows go out 500 at a time;
 * JIT would compile the whole 300,000-row plan first (about a CPU second) before the first row. */
export async function prepareExport(tx: TenantSql, companyId: string): Promise<string> {
  const [row] = await tx<{ time_zone: string }[]>`
    select set_config('jit', 'off', true),
           coalesce((select s.time_zone from public.company_settings s where s.company_id = ${companyId}), 'UTC')
             as time_zone`;
  return row.time_zone;
}

const MINUTES = "YYYY-MM-DD HH24:MI";

/** The columns of `CaseExportExtras`, for a query over `public.recovery_cases rc` that joins members `m`
 * and `exportJoins`. */
export const exportColumns = (tx: TenantSql, timeZone: string) =>
  tx`m.name_ciphertext, ${productTitle(tx)} as product_title, nudges.nudges_sent,
     to_char(rc.opened_at at time zone ${timeZone}::text, ${MINUTES}) as opened_local,
     to_char(rc.closed_at at time zone ${timeZone}::text, ${MINUTES}) as closed_local,
     to_char(nudges.last_nudge_at at time zone ${timeZone}::text, ${MINUTES}) as last_nudge_local`;

/** The case's delivered nudges: one index scan per case (job_queue_case_idx). */
export const exportJoins = (tx: TenantSql) =>
  tx`left join lateral (
      select count(*)::int as nudges_sent, max(j.sent_at) as last_nudge_at
      from public.job_queue j
      where j.case_id = rc.id and j.company_id = rc.company_id and j.status = 'sent'
        and j.channel in ('push', 'dm')
    ) nudges on true`;
