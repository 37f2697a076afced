// Constant-time equality for secrets, MACs and tokens: the loop always runs over the longer input and
// never exits early, so the time taken depends only on the lengths, never on where the inputs differ.

const encoder = new TextEncoder();

/** Constant-time equality of two byte arrays (time depends only on their lengths). */
export function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Constant-time equality of two strings, compared as UTF-8 bytes (time depends only on lengths). */
export function timingSafeEqual(a: string, b: string): boolean {
  return timingSafeEqualBytes(encoder.encode(a), encoder.encode(b));
}
