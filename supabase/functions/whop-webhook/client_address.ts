// The address a webhook request came from, as the platform vouches for it. It only keys the limit of
// FAILED signature checks (guards.ts): nothing that verifies depends on it, so a wrong or forged
// value can at worst change whether a forged request is answered 401 or 429.
//
// Which header the platform fills (README, "Webhooks: the client address"):
// - Hosted Supabase serves functions behind Cloudflare, which sets `cf-connecting-ip` to the address
//   that connected to it and replaces any value the client sent. It also appends that address to
//   `x-forwarded-for`, but keeps the entries the client sent in front of it, and the proxies between
//   Cloudflare and the function may append their own: neither the first entry (client-supplied, the
//   old key) nor the last one is reliably the client there.
// - The local gateway (scripts/local/functions_gateway.ts) sets both headers to the peer address of
//   the connection, dropping what the client sent, like Cloudflare does.
// - Elsewhere (a function served without a gateway) the last `x-forwarded-for` entry is the one the
//   nearest proxy appended; a client can only add entries in front of it.
// Anything that is not an IP address, or no header at all, shares one "unknown" source.

const IP_ADDRESS = /^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)$/;
const MAX_ADDRESS_LENGTH = 45;
export const UNKNOWN_SOURCE = "unknown";

export function clientAddress(headers: Headers): string {
  const connecting = headers.get("cf-connecting-ip");
  if (connecting !== null) return normalize(connecting);
  const forwarded = headers.get("x-forwarded-for");
  if (forwarded !== null) return normalize(forwarded.slice(forwarded.lastIndexOf(",") + 1));
  return UNKNOWN_SOURCE;
}

function normalize(value: string): string {
  const address = value.trim().toLowerCase();
  // The length bound keeps every key of the limiter small, whatever a header holds.
  return address.length <= MAX_ADDRESS_LENGTH && IP_ADDRESS.test(address) ? address : UNKNOWN_SOURCE;
}
