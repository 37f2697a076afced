// Whop ids are a type prefix plus 14 random alphanumerics (e.g. "mem_xxxxxxxxxxxxxx"); matching that
// format keeps code that validates or logs ids honest in tests.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function randomId(prefix: string, length = 14): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return `${prefix}_${out}`;
}
