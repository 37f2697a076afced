// The one cross-site (CSRF) check of the dashboard, for every request that can change something
// (any method but GET, HEAD, OPTIONS): Whop's proxy adds the admin's x-whop-user-token to whatever
// reaches the app's origin, so a form on another site would otherwise act with the admin's rights.
// A browser says where a request comes from:
// - Sec-Fetch-Site must be absent (old browsers, non-browser clients) or `same-origin`;
// - an Origin header must be one of ours: the origin of the request's own host, or one listed in
//   DASHBOARD_ALLOWED_ORIGINS. Whop shows the dashboard through its proxy, so the browser's Origin is
//   the address Whop serves the app under, which production lists there.
// X-Forwarded-Host is not trusted: any client can send it, and nothing Whop documents (WHOP.md
// section 3) says its proxy sets or overwrites it, so the allowed origins are configured instead.
import type { MiddlewareHandler } from "hono";
import { ConfigError, type EnvReader } from "../../supabase/functions/_shared/config.ts";
import { HttpError } from "../../supabase/functions/_shared/http.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export const CROSS_SITE_MESSAGE =
  "This request did not come from the Churn Saver dashboard itself, so nothing was changed. Open the page " +
  "from your Whop dashboard and use its buttons there.";

/** DASHBOARD_ALLOWED_ORIGINS: comma-separated origins (`https://host[:port]`, nothing after it). */
export function readAllowedOrigins(env: EnvReader): string[] {
  const raw = env.get("DASHBOARD_ALLOWED_ORIGINS")?.trim();
  if (!raw) return [];
  return raw.split(",").map((entry) => entry.trim()).filter(Boolean).map((entry) => {
    const origin = parseOrigin(entry);
    const url = origin === null ? null : new URL(entry);
    if (url === null || url.pathname !== "/" || url.search || url.hash || url.username) {
      throw new ConfigError(
        `DASHBOARD_ALLOWED_ORIGINS must list origins like https://example.apps.whop.com (scheme and host, ` +
          `no path), not "${entry}".`,
      );
    }
    return origin!;
  });
}

/** Whether a request with these headers to `url` comes from one of our own pages. */
export function comesFromUs(
  headers: { get(name: string): string | null | undefined },
  url: string,
  allowedOrigins: readonly string[],
): boolean {
  const site = headers.get("sec-fetch-site") ?? undefined;
  if (site !== undefined && site !== "same-origin") return false;
  const origin = headers.get("origin") ?? undefined;
  if (origin === undefined) return true;
  // "null" (sandboxed frames, privacy redirects) and garbage parse to null and are refused.
  const from = parseOrigin(origin);
  if (from === null) return false;
  // The request's own host under either scheme: TLS may end at a proxy in front of us.
  return new URL(from).host === new URL(url).host || allowedOrigins.includes(from);
}

export function crossSiteGuard(allowedOrigins: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method) && !comesFromUs(c.req.raw.headers, c.req.url, allowedOrigins)) {
      throw new HttpError(403, "cross_site_request", CROSS_SITE_MESSAGE);
    }
    await next();
  };
}

function parseOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.origin : null;
  } catch {
    return null;
  }
}
