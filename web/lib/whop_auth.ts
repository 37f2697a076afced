// Who is looking at the dashboard (WHOP.md section 3): Whop's proxy adds `x-whop-user-token`, an
// ES256 JWT (issuer urn:whopcom:exp-proxy, audience = our app id), to every request of the app.
// We verify it against Whop's JWKS (rules in whop_user_token.ts), then ask Whop whether that user is
// an admin of the company in the URL (answers cached briefly). Anything else is 401 (who are you?)
// or 403 (not yours).
import { createRemoteJWKSet } from "jose";
import { forbidden, HttpError, unauthorized } from "../../supabase/functions/_shared/http.ts";
import type { WhopClient } from "../../supabase/functions/_shared/whop/client.ts";
import { verifyWhopUserToken } from "./whop_user_token.ts";

export { WHOP_TOKEN_ISSUER } from "./whop_user_token.ts";

export interface Viewer {
  userId: string;
  companyId: string;
}

export interface WhopAuthOptions {
  jwksUrl: string;
  appId: string;
  whop: WhopClient;
  accessCacheSeconds?: number;
}

export function createWhopAuth(options: WhopAuthOptions) {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl), {
    cooldownDuration: 30_000,
    cacheMaxAge: 600_000,
  });
  const cacheMs = (options.accessCacheSeconds ?? 60) * 1000;
  const accessCache = new Map<string, { admin: boolean; until: number }>();

  async function verifyToken(token: string): Promise<string> {
    try {
      return await verifyWhopUserToken(token, jwks, options.appId);
    } catch {
      throw unauthorized(
        "Your Whop session could not be verified. Open Churn Saver from your Whop dashboard again.",
      );
    }
  }

  async function isAdmin(userId: string, companyId: string): Promise<boolean> {
    const key = `${userId}:${companyId}`;
    const cached = accessCache.get(key);
    if (cached && cached.until > Date.now()) return cached.admin;
    const outcome = await options.whop.checkAccess(userId, companyId);
    if (!outcome.ok) {
      if (outcome.kind === "permanent" && outcome.status === 404) return false;
      throw new HttpError(
        503,
        "whop_unavailable",
        "Whop did not confirm your access just now. Please try again in a moment.",
        {
          "retry-after": "10",
        },
      );
    }
    const admin = (outcome.body as { access_level?: unknown }).access_level === "admin";
    if (accessCache.size > 10_000) accessCache.clear();
    accessCache.set(key, { admin, until: Date.now() + cacheMs });
    return admin;
  }

  return {
    /** The verified user of any Whop view (an experience's member as well as an admin), or a 401. */
    async identify(token: string | undefined): Promise<string> {
      if (!token) throw unauthorized("Open this from Whop: the request carries no Whop session.");
      return await verifyToken(token);
    },
    /** The verified viewer of `companyId`, or a 401/403 HttpError. */
    async authenticate(token: string | undefined, companyId: string): Promise<Viewer> {
      if (!token) {
        throw unauthorized("Open Churn Saver from your Whop dashboard: the request carries no Whop session.");
      }
      const userId = await verifyToken(token);
      if (!(await isAdmin(userId, companyId))) {
        throw forbidden("Only admins of this company can see its Churn Saver dashboard.");
      }
      return { userId, companyId };
    },
  };
}
