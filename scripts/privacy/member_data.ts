// Export and erasure of one member's data (data-subject rights). The SQL functions find and delete
// the rows; keys live here, so this side turns an email into its blind index candidates (one per
// key of the ring, since a member's index was made with the key current when they were stored) and
// decrypts what the export returns.
import {
  decryptField,
  emailBlindIndexCandidates,
  type KeyRing,
} from "../../supabase/functions/_shared/crypto/pii.ts";
import { piiContext } from "../../supabase/functions/_shared/crypto/pii_context.ts";
import type { Sql } from "../../supabase/functions/_shared/db.ts";

/** Whom to look for: a Whop user id or an email address (exactly one). */
export type Subject = { userId: string } | { email: string };

export type RowKind = "member" | "event" | "case" | "job" | "attempt" | "click" | "audit_entry";
/** Rows per kind, keyed as the SQL functions count them. */
export type Counts = Record<string, number>;
export const COUNT_NAMES = ["members", "events", "cases", "jobs", "attempts", "clicks", "audit_entries"];

interface StoredRow {
  kind: RowKind;
  company_id: string;
  membership_id: string | null;
  row_id: string;
  data: Record<string, unknown>;
}

interface StoredExport {
  user_ids: string[];
  counts: Counts;
  rows: StoredRow[];
}

/** The export document: every row about the member, PII and payloads decrypted. */
export interface MemberExport {
  exported_at: string;
  searched_by: "user_id" | "email";
  user_ids: string[];
  counts: Counts;
  members: Record<string, unknown>[];
  events: Record<string, unknown>[];
  cases: Record<string, unknown>[];
  jobs: Record<string, unknown>[];
  attempts: Record<string, unknown>[];
  clicks: Record<string, unknown>[];
  audit_entries: Record<string, unknown>[];
}

const MEMBER_FIELDS = ["email", "name", "username"] as const;

async function subjectArgs(ring: KeyRing, subject: Subject) {
  return "userId" in subject
    ? { userId: subject.userId, blindIndexes: null }
    : { userId: null, blindIndexes: await emailBlindIndexCandidates(ring, subject.email) };
}

/** What erasure would delete: the user ids found and the number of rows per kind. */
export async function countMemberData(sql: Sql, ring: KeyRing, subject: Subject) {
  const { userId, blindIndexes } = await subjectArgs(ring, subject);
  const [{ found }] = await sql<{ found: { user_ids: string[]; counts: Counts } }[]>`
    select private.count_member_data(${userId}, ${blindIndexes}) as found`;
  return found;
}

/** Reads (and audits reading) everything about the member, and decrypts it. */
export async function exportMemberData(
  sql: Sql,
  ring: KeyRing,
  subject: Subject,
  actor: string,
): Promise<MemberExport> {
  const { userId, blindIndexes } = await subjectArgs(ring, subject);
  const [{ doc }] = await sql<{ doc: StoredExport }[]>`
    select private.export_member_data(${userId}, ${blindIndexes}, ${actor}) as doc`;
  const byKind = (kind: RowKind) => doc.rows.filter((row) => row.kind === kind).map((row) => row.data);
  return {
    exported_at: new Date().toISOString(),
    searched_by: "userId" in subject ? "user_id" : "email",
    user_ids: doc.user_ids,
    counts: doc.counts,
    members: await Promise.all(byKind("member").map((row) => decryptMember(ring, row))),
    events: await Promise.all(byKind("event").map((row) => decryptEvent(ring, row))),
    cases: byKind("case"),
    jobs: byKind("job"),
    attempts: byKind("attempt"),
    clicks: byKind("click"),
    audit_entries: byKind("audit_entry"),
  };
}

/** Deletes everything about the member in one transaction (audited); returns the rows per kind. */
export async function eraseMemberData(sql: Sql, ring: KeyRing, subject: Subject, actor: string) {
  const { userId, blindIndexes } = await subjectArgs(ring, subject);
  const [{ counts }] = await sql<{ counts: Counts }[]>`
    select private.erase_member_data(${userId}, ${blindIndexes}, ${actor}) as counts`;
  return counts;
}

async function decryptMember(ring: KeyRing, row: Record<string, unknown>) {
  const { email_ciphertext: _e, name_ciphertext: _n, username_ciphertext: _u, ...rest } = row;
  const member: Record<string, unknown> = { ...rest };
  for (const field of MEMBER_FIELDS) {
    const ciphertext = row[`${field}_ciphertext`];
    member[field] = typeof ciphertext === "string"
      ? await decryptField(
        ring,
        ciphertext,
        piiContext.member(String(row.company_id), String(row.user_id), field),
      )
      : null;
  }
  return member;
}

async function decryptEvent(ring: KeyRing, row: Record<string, unknown>) {
  const { payload_ciphertext: ciphertext, cancellation_reason_ciphertext: reason, ...rest } = row;
  const cancellation_reason = typeof reason === "string"
    ? await decryptField(ring, reason, piiContext.event(String(row.id), "cancellation_reason"))
    : null;
  if (typeof ciphertext !== "string") return { ...rest, cancellation_reason, payload: null };
  const raw = await decryptField(ring, ciphertext, piiContext.payload(String(row.id)));
  let payload: unknown = raw;
  try {
    payload = JSON.parse(raw);
  } catch {
    // Stored as received; a body that is not JSON is exported as text.
  }
  return { ...rest, cancellation_reason, payload };
}
