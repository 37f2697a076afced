// Key rotation: re-encrypts every stored PII field and raw payload that is not on the current
// (first) key of ENCRYPTION_KEYS, and recomputes the email blind index under it, in batches.
//
// The blind index rotates with the key: both are derived from the same root key, and an index left
// under the old key could only be searched while that key stays in the ring, which is what rotation
// is meant to end. Search looks under every key of the ring, so it finds members while a rotation is
// under way. Plaintext never changes, and nothing is logged but counts.
//
// Each row is written only if it still holds what was read (a webhook may store newer details in
// between; those are already on the current key). Rows on the current key are skipped, so a second
// run, or a run after an interruption, only does what is left.
import {
  decryptField,
  DecryptionError,
  emailBlindIndex,
  encryptField,
  type KeyRing,
} from "../../supabase/functions/_shared/crypto/pii.ts";
import { piiContext } from "../../supabase/functions/_shared/crypto/pii_context.ts";
import {
  memberSearchTokens,
  type SearchField,
} from "../../supabase/functions/_shared/crypto/search_tokens.ts";
import type { Sql } from "../../supabase/functions/_shared/db.ts";

export interface RotationTally {
  /** Rows not on the current key when the run started. */
  pending: number;
  reencrypted: number;
  /** Rows changed by someone else between read and write (left for the next run if still old). */
  changed: number;
  /** Rows with a field no key of the ring decrypts. */
  failed: number;
}

export interface RotationOptions {
  batchSize: number;
  /** Only this company's rows. */
  companyId?: string | null;
  onProgress?: (table: string, tally: RotationTally) => void;
}

const emptyTally = (): RotationTally => ({ pending: 0, reencrypted: 0, changed: 0, failed: 0 });

interface MemberRow {
  company_id: string;
  user_id: string;
  email_ciphertext: string | null;
  name_ciphertext: string | null;
  username_ciphertext: string | null;
  email_blind_index: string | null;
  search_tokens: string[] | null;
}

export async function rotateKeys(sql: Sql, ring: KeyRing, options: RotationOptions) {
  return {
    members: await rotateMembers(sql, ring, options),
    events: await rotateEvents(sql, ring, options),
  };
}

async function rotateMembers(sql: Sql, ring: KeyRing, options: RotationOptions): Promise<RotationTally> {
  const current = ring.currentKeyId;
  // The key id is the second part of an envelope ("v1.<keyId>.<iv>.<ct>"), the first of an index or a
  // search token. Members stored before search tokens existed get theirs here too.
  const stale = sql`(split_part(email_ciphertext, '.', 2) <> ${current}
    or split_part(name_ciphertext, '.', 2) <> ${current} or split_part(username_ciphertext, '.', 2) <> ${current}
    or split_part(email_blind_index, '.', 1) <> ${current}
    or exists (select 1 from unnest(search_tokens) token where split_part(token, '.', 1) <> ${current})
    or (search_tokens is null
      and (email_ciphertext is not null or name_ciphertext is not null or username_ciphertext is not null)))`;
  const company = options.companyId ? sql`and company_id = ${options.companyId}` : sql``;
  const tally = emptyTally();
  [{ pending: tally.pending }] = await sql<{ pending: number }[]>`
    select count(*)::int as pending from public.members where ${stale} ${company}`;
  let after = ["", ""];
  for (;;) {
    const rows = await sql<MemberRow[]>`
      select company_id, user_id, email_ciphertext, name_ciphertext, username_ciphertext, email_blind_index,
             search_tokens
      from public.members
      where ${stale} ${company} and (company_id, user_id) > (${after[0]}, ${after[1]})
      order by company_id, user_id
      limit ${options.batchSize}`;
    if (rows.length === 0) break;
    after = [rows.at(-1)!.company_id, rows.at(-1)!.user_id];
    for (const row of rows) {
      const next = await reencryptMember(ring, row).catch((error) => {
        if (error instanceof DecryptionError) return null;
        throw error;
      });
      if (next === null) {
        tally.failed++;
        continue;
      }
      const written = await sql`
        update public.members set email_ciphertext = ${next.email_ciphertext}, name_ciphertext = ${next.name_ciphertext},
          username_ciphertext = ${next.username_ciphertext}, email_blind_index = ${next.email_blind_index},
          search_tokens = ${next.search_tokens}
        where company_id = ${row.company_id} and user_id = ${row.user_id}
          and email_ciphertext is not distinct from ${row.email_ciphertext}
          and name_ciphertext is not distinct from ${row.name_ciphertext}
          and username_ciphertext is not distinct from ${row.username_ciphertext}
          and email_blind_index is not distinct from ${row.email_blind_index}
          and search_tokens is not distinct from ${row.search_tokens}::text[]`;
      if (written.count === 1) tally.reencrypted++;
      else tally.changed++;
    }
    options.onProgress?.("members", tally);
  }
  return tally;
}

async function reencryptMember(ring: KeyRing, row: MemberRow): Promise<MemberRow> {
  const next = { ...row };
  const plaintexts: Partial<Record<SearchField, string>> = {};
  for (const field of ["email", "name", "username"] as const) {
    const ciphertext = row[`${field}_ciphertext`];
    if (ciphertext === null) continue;
    const context = piiContext.member(row.company_id, row.user_id, field);
    const plaintext = await decryptField(ring, ciphertext, context);
    plaintexts[field] = plaintext;
    next[`${field}_ciphertext`] = await reencrypt(ring, ciphertext, plaintext, context);
  }
  // Without the email there is nothing to index: an index without it cannot be recomputed, so it stays.
  if (plaintexts.email !== undefined) next.email_blind_index = await emailBlindIndex(ring, plaintexts.email);
  // Tokens come from these fields only: a member without any has nothing to be found by.
  next.search_tokens = memberSearchTokens(ring, row.company_id, plaintexts);
  return next;
}

/** A field already on the current key is kept as it is. */
function reencrypt(ring: KeyRing, ciphertext: string, plaintext: string, context: string) {
  return ciphertext.split(".")[1] === ring.currentKeyId ? ciphertext : encryptField(ring, plaintext, context);
}

async function rotateEvents(sql: Sql, ring: KeyRing, options: RotationOptions): Promise<RotationTally> {
  const current = ring.currentKeyId;
  const stale = sql`(split_part(payload_ciphertext, '.', 2) <> ${current}
    or split_part(cancellation_reason_ciphertext, '.', 2) <> ${current})`;
  const company = options.companyId ? sql`and company_id = ${options.companyId}` : sql``;
  const tally = emptyTally();
  [{ pending: tally.pending }] = await sql<{ pending: number }[]>`
    select count(*)::int as pending from public.events where ${stale} ${company}`;
  let after = "";
  for (;;) {
    const rows = await sql<EventRow[]>`
      select id, payload_ciphertext, cancellation_reason_ciphertext from public.events
      where ${stale} ${company} and id > ${after}
      order by id
      limit ${options.batchSize}`;
    if (rows.length === 0) break;
    after = rows.at(-1)!.id;
    for (const row of rows) {
      let next: EventRow;
      try {
        next = await reencryptEvent(ring, row);
      } catch (error) {
        if (!(error instanceof DecryptionError)) throw error;
        tally.failed++;
        continue;
      }
      const written = await sql`
        update public.events set payload_ciphertext = ${next.payload_ciphertext},
          cancellation_reason_ciphertext = ${next.cancellation_reason_ciphertext}
        where id = ${row.id} and payload_ciphertext is not distinct from ${row.payload_ciphertext}
          and cancellation_reason_ciphertext is not distinct from ${row.cancellation_reason_ciphertext}`;
      if (written.count === 1) tally.reencrypted++;
      else tally.changed++;
    }
    options.onProgress?.("events", tally);
  }
  return tally;
}

interface EventRow {
  id: string;
  payload_ciphertext: string | null;
  /** The member's cancellation reason, in their own words. */
  cancellation_reason_ciphertext: string | null;
}

async function reencryptEvent(ring: KeyRing, row: EventRow): Promise<EventRow> {
  const next = { ...row };
  const fields = [
    ["payload_ciphertext", piiContext.payload(row.id)],
    ["cancellation_reason_ciphertext", piiContext.event(row.id, "cancellation_reason")],
  ] as const;
  for (const [column, context] of fields) {
    const ciphertext = row[column];
    if (ciphertext === null) continue;
    next[column] = await reencrypt(ring, ciphertext, await decryptField(ring, ciphertext, context), context);
  }
  return next;
}
