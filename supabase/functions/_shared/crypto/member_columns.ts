// A member's details as public.members stores them: each field encrypted and bound to the member and
// field, the email's blind index, and the search tokens (search_tokens.ts). The webhook writes these,
// and so do the local demo data and the tests, so all three store members the same way.
import { emailBlindIndex, encryptField, type KeyRing } from "./pii.ts";
import { piiContext } from "./pii_context.ts";
import { memberSearchTokens } from "./search_tokens.ts";

export interface MemberDetails {
  email?: string | null;
  name?: string | null;
  username?: string | null;
}

export interface MemberColumns {
  email_ciphertext: string | null;
  name_ciphertext: string | null;
  username_ciphertext: string | null;
  email_blind_index: string | null;
  search_tokens: string[] | null;
}

export function memberColumns(
  ring: KeyRing,
  companyId: string,
  userId: string,
  details: MemberDetails,
): MemberColumns {
  const seal = (field: "email" | "name" | "username") => {
    const value = details[field];
    return value ? encryptField(ring, value, piiContext.member(companyId, userId, field)) : null;
  };
  return {
    email_ciphertext: seal("email"),
    name_ciphertext: seal("name"),
    username_ciphertext: seal("username"),
    email_blind_index: details.email ? emailBlindIndex(ring, details.email) : null,
    search_tokens: memberSearchTokens(ring, companyId, details),
  };
}
