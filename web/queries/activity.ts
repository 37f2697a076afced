// The company's audit log, newest first, a page at a time. Pages are keyset-paginated on
// (created_at, id): stable while new entries arrive, and as fast on page 100 as on page 1. The
// cursor keeps created_at in whole microseconds, so no entry is skipped or repeated.
import { fitsBigint, MAX_CURSOR_MICROSECONDS } from "../lib/postgres_values.ts";
import type { TenantSql } from "../lib/tenant.ts";

export const ACTIVITY_PAGE_SIZE = 50;

export interface AuditEntry {
  id: string;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  before: unknown;
  after: unknown;
  created_at: Date;
  /** created_at in microseconds since the epoch, for cursors. */
  created_us: string;
  /** For an entry about a case: its member, to name them (decrypted by the page, never logged). */
  case_user_id: string | null;
  case_name_ciphertext: string | null;
  case_username_ciphertext: string | null;
}

/** A position in the log: entries strictly before (older) or after (newer) it. */
export interface ActivityCursor {
  direction: "older" | "newer";
  createdUs: string;
  id: string;
}

export interface ActivityPage {
  entries: AuditEntry[];
  /** Cursors for the neighbouring pages; null when there is none. */
  older: string | null;
  newer: string | null;
}

const CURSOR = /^(older|newer):(\d{1,19})\.(\d{1,19})$/;

/**
 * `?page=`: null for the newest page, "malformed" for anything that is not a cursor this page made
 * (including numbers Postgres would refuse as a bigint or a timestamp).
 */
export function parseActivityCursor(value: string | undefined): ActivityCursor | null | "malformed" {
  if (value === undefined || value === "") return null;
  const match = CURSOR.exec(value);
  if (!match || BigInt(match[2]) > MAX_CURSOR_MICROSECONDS || !fitsBigint(match[3])) return "malformed";
  return { direction: match[1] as ActivityCursor["direction"], createdUs: match[2], id: match[3] };
}

function cursorOf(direction: ActivityCursor["direction"], entry: AuditEntry): string {
  return `${direction}:${entry.created_us}.${entry.id}`;
}

export async function loadActivityPage(
  tx: TenantSql,
  companyId: string,
  cursor: ActivityCursor | null,
  pageSize = ACTIVITY_PAGE_SIZE,
): Promise<ActivityPage> {
  const at = cursor
    ? tx`(timestamptz 'epoch' + ${cursor.createdUs}::bigint * interval '1 microsecond')`
    : null;
  const position = cursor === null
    ? tx``
    : cursor.direction === "older"
    ? tx`and (a.created_at, a.id) < (${at!}, ${cursor.id}::bigint)`
    : tx`and (a.created_at, a.id) > (${at!}, ${cursor.id}::bigint)`;
  const order = cursor?.direction === "newer" ? tx`a.created_at, a.id` : tx`a.created_at desc, a.id desc`;
  const rows = await tx<AuditEntry[]>`
    select a.id::text, a.actor, a.action, a.target_type, a.target_id, a.before, a.after, a.created_at,
           (extract(epoch from a.created_at) * 1000000)::bigint::text as created_us,
           rc.user_id as case_user_id, m.name_ciphertext as case_name_ciphertext,
           m.username_ciphertext as case_username_ciphertext
    from public.audit_log a
    -- The case by primary key (target_id is text: only a uuid-shaped one can name a case).
    left join public.recovery_cases rc on a.target_type = 'recovery_case' and rc.company_id = a.company_id
      and rc.id = case when a.target_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                       then a.target_id::uuid end
    left join public.members m on m.company_id = rc.company_id and m.user_id = rc.user_id
    where a.company_id = ${companyId} ${position}
    order by ${order}
    limit ${pageSize + 1}`;

  const more = rows.length > pageSize;
  const page = rows.slice(0, pageSize);
  if (cursor?.direction === "newer") page.reverse();
  const first = page[0];
  const last = page.at(-1);
  const hasOlder = cursor?.direction === "newer" ? true : more;
  const hasNewer = cursor === null ? false : cursor.direction === "older" ? true : more;
  return {
    entries: page,
    older: hasOlder && last ? cursorOf("older", last) : null,
    newer: hasNewer && first ? cursorOf("newer", first) : null,
  };
}
