// Who is looking at the dashboard (WHOP.md section 3): Whop's proxy adds `x-whop-user-token`, an
// ES256 JWT (issuer urn:whopcom:exp-proxy, audience = our app id), to every request of the app.
// We verify it against Whop's JWKS (rules in whop_user_token.ts), then ask Whop whether that user is
// an admin of the company in the URL. Anything else is 401 (who are you?) or 403 (not yours).
//
// Whop allows 600 access checks a minute for our whole app (WHOP.md section 2), so no user may spend
// them for everyone else (issue 11 item 5). A request costs a Whop call only when all of these hold:
// no answer for this user and company is cached (grants and denials both are, in bounded caches of
// their own, so a flood of denials cannot push out the grants of real admins), no identical check is
// already in flight (it is shared), and the user still has access checks left (a token bucket per
// user; else 429). All of it is in-process: the dashboard is one process.
//
// A company is installed when it has a row in public.companies. Its first webhook makes that row,
// and so does its first dashboard visit by an admin (issue 13, onboarding): Whop is asked about a
// company that is not installed yet, and a "yes, admin" installs it (options.installCompany). Such
// first-visit checks also spend from one bucket shared by the whole app, so many users probing ids
// of companies that never installed Churn Saver stay a small, bounded share of Whop's quota.
import { createRemoteJWKSet } from "jose";
import { forbidden, HttpError, unauthorized } from "../../supabase/functions/_shared/http.ts";
import type { WhopClient } from "../../supabase/functions/_shared/whop/client.ts";
import { type Clock, TokenBuckets, TtlCache } from "./bounded_maps.ts";
import { verifyWhopUserToken } from "./whop_user_token.ts";

export { WHOP_TOKEN_ISSUER } from "./whop_user_token.ts";

export interface Viewer {
  userId: string;
  companyId: string;
}

export interface AccessCheckLimits {
  /** How long Whop's "admin" is trusted. */
  grantSeconds: number;
  /** How long Whop's "not an admin" is trusted: shorter, so a newly made admin gets in soon. */
  denialSeconds: number;
  /** How long an installed company is remembered (companies are not uninstalled by us). */
  installedSeconds: number;
  /** Access checks about companies not installed yet, for the whole app: at once, and the refill. */
  firstVisitChecksBurst: number;
  firstVisitRefillSeconds: number;
  /** Entries per cache (grants, denials, installed companies, users' buckets). */
  maxEntries: number;
  /** Access checks a user may cause at once, and how often one more becomes available. */
  checksPerUserBurst: number;
  checkRefillSeconds: number;
}

/** A real admin causes one check per company a minute; a human opening companies stays under it. */
export const DEFAULT_ACCESS_CHECK_LIMITS: AccessCheckLimits = {
  grantSeconds: 60,
  denialSeconds: 30,
  installedSeconds: 300,
  // 20 a minute at most: a thirtieth of Whop's 600, more first visits than a launch day brings.
  firstVisitChecksBurst: 10,
  firstVisitRefillSeconds: 3,
  maxEntries: 10_000,
  checksPerUserBurst: 5,
  checkRefillSeconds: 10,
};

export interface WhopAuthOptions {
  jwksUrl: string;
  appId: string;
  whop: WhopClient;
  /** Whether Churn Saver knows the company (tenant.ts `isCompanyInstalled`). */
  companyInstalled: (companyId: string) => Promise<boolean>;
  /** Makes the company's rows (tenant.ts `installCompany`); called once Whop said the user is its admin. */
  installCompany: (companyId: string) => Promise<void>;
  limits?: Partial<AccessCheckLimits>;
  now?: Clock;
}

const FIRST_VISIT_BUCKET = "first-visit";

export function createWhopAuth(options: WhopAuthOptions) {
  const limits = { ...DEFAULT_ACCESS_CHECK_LIMITS, ...options.limits };
  const now = options.now ?? Date.now;
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl), {
    cooldownDuration: 30_000,
    cacheMaxAge: 600_000,
  });
  const grants = new TtlCache<true>(limits.maxEntries, limits.grantSeconds * 1000, now);
  const denials = new TtlCache<true>(limits.maxEntries, limits.denialSeconds * 1000, now);
  const installed = new TtlCache<true>(limits.maxEntries, limits.installedSeconds * 1000, now);
  const checksLeft = new TokenBuckets({
    burst: limits.checksPerUserBurst,
    refillMs: limits.checkRefillSeconds * 1000,
    maxEntries: limits.maxEntries,
  }, now);
  const firstVisits = new TokenBuckets({
    burst: limits.firstVisitChecksBurst,
    refillMs: limits.firstVisitRefillSeconds * 1000,
    maxEntries: 1,
  }, now);
  const inFlight = new Map<string, Promise<boolean>>();

  async function verifyToken(token: string): Promise<string> {
    try {
      return await verifyWhopUserToken(token, jwks, options.appId);
    } catch {
      throw unauthorized(
        "Your Whop session could not be verified. Open Churn Saver from your Whop dashboard again.",
      );
    }
  }

  async function isInstalled(companyId: string): Promise<boolean> {
    if (installed.get(companyId)) return true;
    // Not-installed is not cached: a webhook or an admin's visit installs a company at any time, and
    // the lookup is one primary-key read.
    const known = await options.companyInstalled(companyId);
    if (known) installed.set(companyId, true);
    return known;
  }

  function tooMany(waitMs: number, message: string): HttpError {
    const seconds = Math.ceil(waitMs / 1000);
    return new HttpError(429, "too_many_requests", `${message} Try again in ${seconds} seconds.`, {
      "retry-after": String(seconds),
    });
  }

  async function askWhop(userId: string, companyId: string, key: string): Promise<boolean> {
    const waitMs = checksLeft.take(userId);
    if (waitMs !== null) throw tooMany(waitMs, "Too many companies checked for your Whop account just now.");
    const firstVisit = !(await isInstalled(companyId));
    if (firstVisit) {
      const sharedWaitMs = firstVisits.take(FIRST_VISIT_BUCKET);
      if (sharedWaitMs !== null) throw tooMany(sharedWaitMs, "Many new companies are being set up just now.");
    }
    const outcome = await options.whop.checkAccess(userId, companyId);
    if (!outcome.ok) {
      if (outcome.kind === "permanent" && outcome.status === 404) {
        denials.set(key, true);
        return false;
      }
      // Not remembered: Whop did not answer the question.
      throw new HttpError(
        503,
        "whop_unavailable",
        "Whop did not confirm your access just now. Please try again in a moment.",
        { "retry-after": "10" },
      );
    }
    const admin = (outcome.body as { access_level?: unknown }).access_level === "admin";
    if (admin && firstVisit) {
      await options.installCompany(companyId);
      installed.set(companyId, true);
    }
    (admin ? grants : denials).set(key, true);
    return admin;
  }

  async function isAdmin(userId: string, companyId: string): Promise<boolean> {
    const key = `${userId}\u0000${companyId}`;
    if (grants.get(key)) return true;
    if (denials.get(key)) return false;
    let check = inFlight.get(key);
    if (!check) {
      check = askWhop(userId, companyId, key).finally(() => inFlight.delete(key));
      inFlight.set(key, check);
    }
    return await check;
  }

  return {
    /** The verified user of any Whop view (an experience's member as well as an admin), or a 401. */
    async identify(token: string | undefined): Promise<string> {
      if (!token) throw unauthorized("Open this from Whop: the request carries no Whop session.");
      return await verifyToken(token);
    },
    /** The verified viewer of `companyId` (installed by this visit if need be), or a 401/403/429/503 HttpError. */
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
