// A case's member as the creator may see them: decrypted here, for the page or file being built,
// never logged. A field that does not decrypt (a retired key, a damaged row) shows as unknown rather
// than breaking the page; the log says why without the value.
import { decryptField, DecryptionError, type KeyRing } from "../../supabase/functions/_shared/crypto/pii.ts";
import { piiContext } from "../../supabase/functions/_shared/crypto/pii_context.ts";
import { log } from "../../supabase/functions/_shared/log.ts";

export type MemberField = "email" | "name" | "username";

/** Counts fields that would not decrypt, so a big export logs one line instead of one per row. */
export interface DecryptFailures {
  count: number;
  reason: string | null;
}

export async function decryptMemberField(
  ring: KeyRing,
  companyId: string,
  userId: string | null,
  field: MemberField,
  ciphertext: string | null,
  failures?: DecryptFailures,
): Promise<string | null> {
  if (!ciphertext || !userId) return null;
  try {
    return await decryptField(ring, ciphertext, piiContext.member(companyId, userId, field));
  } catch (error) {
    const reason = error instanceof DecryptionError ? error.reason : "unexpected";
    if (failures) {
      failures.count++;
      failures.reason ??= reason;
    } else {
      log.warn("member field could not be decrypted", { field_kind: field, reason });
    }
    return null;
  }
}

/** How the list shows a member: their name (else their username) and their email, each null when unknown. */
export async function memberListing(
  ring: KeyRing,
  companyId: string,
  row: {
    user_id: string | null;
    name_ciphertext: string | null;
    username_ciphertext: string | null;
    email_ciphertext: string | null;
  },
): Promise<{ name: string | null; email: string | null }> {
  const field = (kind: MemberField, ciphertext: string | null) =>
    decryptMemberField(ring, companyId, row.user_id, kind, ciphertext).then((value) => value?.trim() || null);
  const name = await field("name", row.name_ciphertext) ?? await field("username", row.username_ciphertext);
  return { name, email: await field("email", row.email_ciphertext) };
}

/** What the member wrote on an event (their cancellation reason), decrypted for the creator's page
 * or file; never logged. Like member fields, one that does not decrypt is unknown, not an error. */
export async function decryptEventField(
  ring: KeyRing,
  eventId: string | null,
  field: "cancellation_reason",
  ciphertext: string | null,
  failures?: DecryptFailures,
): Promise<string | null> {
  if (!ciphertext || !eventId) return null;
  try {
    return await decryptField(ring, ciphertext, piiContext.event(eventId, field));
  } catch (error) {
    const reason = error instanceof DecryptionError ? error.reason : "unexpected";
    if (failures) {
      failures.count++;
      failures.reason ??= reason;
    } else {
      log.warn("event field could not be decrypted", { field_kind: field, reason });
    }
    return null;
  }
}
