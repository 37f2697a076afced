// Finding a member by what a creator remembers ("sar", "connor", "sarah.c@", a username) without
// plaintext PII at rest. Each word of a member's name, username and email is stored as keyed tokens of
// its prefixes: HMAC under the ring's blind-index key, bound to the company, so equal words of two
// companies never share a token and nothing here can be reversed without the key. A search computes
// the same tokens for what was typed, under every key of the ring (a rotation keeps finding members),
// and matches them with one GIN index (members.search_tokens).
//
// The trade-off, as with any blind index: someone holding the database but not the key can see that
// two members of one company share a prefix, not what it is.
import type { KeyRing } from "./key_ring.ts";
import { encodeBase64Url } from "./encoding.ts";
import { hmacSha256Prefixes } from "./primitives.ts";

export type SearchField = "name" | "username" | "email";

/** A token is "<keyId>.<field tag>.<mac>": the tag lets a newer event replace one field's tokens. */
const FIELD_TAGS: Record<SearchField, string> = { name: "n", username: "u", email: "e" };
const TAGS = Object.values(FIELD_TAGS);
/** Prefixes longer than this are not indexed: a longer typed word is matched by its first 20 characters. */
export const MAX_PREFIX_LENGTH = 20;
/** Bounds a typed search and a stored field, so neither can grow without limit. */
export const MAX_SEARCH_WORDS = 6;
const MAX_FIELD_WORDS = 12;
// 72 bits: collisions inside one company's members stay negligible and the arrays stay small.
const TOKEN_MAC_BYTES = 9;

/**
 * The words of a text as search compares them: NFKD with accents dropped ("Zoë" is "zoe"), lowercase,
 * split on anything that is not a letter or a digit ("sarah.connor@example.com" is four words).
 */
export function searchWords(text: string): string[] {
  const words = text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase().split(/[^\p{L}\p{N}]+/u);
  return [...new Set(words.filter((word) => word.length > 0))];
}

/** The tokens of a member's fields present in an event, or null when it carries none of them. */
export function memberSearchTokens(
  ring: KeyRing,
  companyId: string,
  fields: Partial<Record<SearchField, string | null>>,
): string[] | null {
  const tokens = new Set<string>();
  let present = false;
  for (const field of Object.keys(FIELD_TAGS) as SearchField[]) {
    const value = fields[field];
    if (!value) continue;
    present = true;
    for (const word of searchWords(value).slice(0, MAX_FIELD_WORDS)) {
      const characters = Array.from(word).slice(0, MAX_PREFIX_LENGTH);
      for (const token of tokensOf(ring, ring.currentKeyId, FIELD_TAGS[field], companyId, characters)) {
        tokens.add(token);
      }
    }
  }
  return present ? [...tokens] : null;
}

/**
 * What one typed word may match: its token in every field under every key. A member matches a search
 * when each typed word matches one of their words' prefixes.
 */
export function searchWordCandidates(ring: KeyRing, companyId: string, word: string): string[] {
  const characters = Array.from(word).slice(0, MAX_PREFIX_LENGTH);
  return ring.keyIds.flatMap((keyId) =>
    TAGS.map((tag) => tokensOf(ring, keyId, tag, companyId, [characters.join("")])[0])
  );
}

/** The key id a stored token was made under (its first part), for rotation. */
export function tokenKeyId(token: string): string {
  return token.slice(0, token.indexOf("."));
}

/**
 * The tokens of `parts[0]`, `parts[0] + parts[1]`, ...: given a word's characters, one per prefix of
 * the word, each hashed from the previous one's state (hmacSha256Prefixes).
 */
function tokensOf(ring: KeyRing, keyId: string, tag: string, companyId: string, parts: string[]): string[] {
  const key = ring.keys.get(keyId);
  if (!key) throw new Error(`Key ring has no key "${keyId}".`);
  // Domain-separated from the email blind index, which MACs the bare email under the same key.
  return hmacSha256Prefixes(key.blindIndex, `member-search\u0000${companyId}\u0000`, parts)
    .map((mac) => `${keyId}.${tag}.${encodeBase64Url(mac.subarray(0, TOKEN_MAC_BYTES))}`);
}
