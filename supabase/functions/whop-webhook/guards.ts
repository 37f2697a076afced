// Rate limits and rejection counts for the webhook endpoint, kept in Postgres so that every
// isolate shares them (atomic counters). The per-IP limit runs before the signature check; the
// per-company limit only after it, so a forged body can never spend a company's quota.
import type { Sql } from "../_shared/db.ts";
import { HttpError } from "../_shared/http.ts";
import { withTimeout } from "../_shared/timeout.ts";
import { hmacSha256, toHex } from "../_shared/whop/webhook_signature.ts";

export type RejectionReason =
  | "rate_limited_ip"
  | "rate_limited_company"
  | "payload_too_large"
  | "missing_signature"
  | "malformed_signature"
  | "stale_timestamp"
  | "bad_signature"
  | "malformed_json"
  | "invalid_envelope";

/** A refused webhook: answered with its HTTP status and counted under its reason. */
export class Rejection extends HttpError {
  constructor(
    status: 400 | 401 | 413 | 429,
    readonly reason: RejectionReason,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(status, reason, message, headers);
  }
}

const WINDOW_SECONDS = 60;

export interface RateLimits {
  perIpPerMinute: number;
  perCompanyPerMinute: number;
}

export function createGuards(sql: Sql, limits: RateLimits, ipHashKey: string, dbTimeoutMs: number) {
  async function take(key: string, limit: number): Promise<boolean> {
    const [row] = await withTimeout(
      sql<
        { allowed: boolean }[]
      >`select private.take_rate_limit(${key}, ${limit}, ${WINDOW_SECONDS}) as allowed`,
      dbTimeoutMs,
      "rate limit",
    );
    return row.allowed;
  }

  const limited = (reason: RejectionReason, scope: string) =>
    new Rejection(429, reason, `Too many webhooks from this ${scope}; retry after a minute.`, {
      "retry-after": String(WINDOW_SECONDS),
    });

  return {
    /** Throws 429 when the source address is over its limit. The address is only kept hashed. */
    async limitIp(ip: string) {
      const hash = toHex(await hmacSha256(ipHashKey, `ip:${ip}`)).slice(0, 32);
      if (!(await take(`ip:${hash}`, limits.perIpPerMinute))) throw limited("rate_limited_ip", "address");
    },
    async limitCompany(companyId: string) {
      if (!(await take(`company:${companyId}`, limits.perCompanyPerMinute))) {
        throw limited("rate_limited_company", "company");
      }
    },
    /** Counts a rejection by reason; never fails the request it describes. */
    async recordRejection(reason: RejectionReason) {
      try {
        await withTimeout(sql`select private.record_webhook_rejection(${reason})`, 1000, "rejection count");
      } catch {
        // Counting is best effort: the answer to Whop matters more.
      }
    },
  };
}
