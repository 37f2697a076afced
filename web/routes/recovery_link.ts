// GET /r/:token — the tracked recovery link of a nudge (ARCHITECTURE sections 5 and 7): verify the
// token, record the click (bot-flagged, the address only as a keyed hash), and send the member to
// the case's recovery_url or manage_url. HEAD answers the same without recording anything.
// Error answers are a small page for browsers (Accept: text/html) and JSON otherwise; a database
// failure is 503, never 500. Written with `h` rather than JSX: the file name is part of its contract.
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { h } from "preact";
import { renderToString } from "preact-render-to-string";
import { isBotOrPreview } from "../../supabase/functions/_shared/bots.ts";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { errorBody } from "../../supabase/functions/_shared/http.ts";
import { verifyRecoveryLinkToken } from "../../supabase/functions/_shared/links.ts";
import { log } from "../../supabase/functions/_shared/log.ts";
import { withTimeout } from "../../supabase/functions/_shared/timeout.ts";
import { hmacSha256, toHex } from "../../supabase/functions/_shared/whop/webhook_signature.ts";
import { MemberPage } from "../components/MemberPage.tsx";
import { redirectTarget } from "../lib/redirect_target.ts";
import { securityHeaders } from "../lib/security_headers.ts";

const DB_TIMEOUT_MS = 3000;
const IP_HASH_HEX_CHARS = 32;

interface Failure {
  status: ContentfulStatusCode;
  code: string;
  title: string;
  message: string;
  headers?: Record<string, string>;
}

const INVALID: Failure = {
  status: 400,
  code: "invalid_link",
  title: "This link is not valid",
  message:
    "This link is not valid (it may have been cut short or changed). Open the Whop app to manage your membership.",
};
const EXPIRED: Failure = {
  status: 410,
  code: "link_expired",
  title: "This link has expired",
  message: "This link has expired — open the Whop app to manage your membership.",
};
const NO_DESTINATION: Failure = {
  status: 404,
  code: "no_destination",
  title: "Manage your membership in Whop",
  message: "Open Whop, go to your memberships and update your payment details there to keep your access.",
};
const UNAVAILABLE: Failure = {
  status: 503,
  code: "service_unavailable",
  title: "Please try again in a moment",
  message: "We could not open your link just now. Please try again in a minute, or open Whop to manage " +
    "your membership.",
  headers: { "retry-after": "10" },
};

export function recoveryLinkRoutes(sql: Sql, linkSigningKey: string) {
  const routes = new Hono();

  // The app-wide security headers plus a stricter referrer policy: the token must not travel on to
  // the destination in a Referer header. (This router is mounted before the app-wide middleware, which
  // would otherwise overwrite the policy.)
  routes.use("/r/*", async (c, next) => {
    await next();
    c.header("referrer-policy", "no-referrer");
    c.header("cache-control", "no-store");
  });
  routes.use("/r/*", securityHeaders);

  routes.get("/r/:token", async (c) => {
    const check = verifyRecoveryLinkToken(c.req.param("token"), linkSigningKey);
    if (!check.ok) {
      log.info("recovery link refused", { reason: check.reason });
      return failure(c, check.reason === "expired" ? EXPIRED : INVALID);
    }
    const { caseId, jobId } = check.claims;
    const recording = c.req.method !== "HEAD";

    let destination: string | null;
    try {
      destination = recording
        ? await recordClick(c, sql, linkSigningKey, caseId, jobId)
        : await lookUpDestination(sql, caseId);
    } catch (error) {
      log.warn("recovery link: database unavailable", { case_id: caseId, error });
      return failure(c, UNAVAILABLE);
    }

    const location = redirectTarget(destination);
    if (!location) return failure(c, NO_DESTINATION, await creatorOf(sql, caseId).catch(() => null));
    return c.body(null, 302, { location });
  });

  return routes;
}

async function recordClick(c: Context, sql: Sql, key: string, caseId: string, jobId: number | null) {
  const isBot = isBotOrPreview(c.req.header("user-agent") ?? null, c.req.raw.headers);
  const ip = clientIp(c);
  const ipHash = ip ? toHex(hmacSha256(key, ip)).slice(0, IP_HASH_HEX_CHARS) : null;
  const [row] = await withTimeout(
    sql<{ destination: string | null }[]>`
      select private.record_link_click(${caseId}::uuid, ${jobId}::bigint, ${ipHash}, ${isBot}) as destination`,
    DB_TIMEOUT_MS,
    "database",
  );
  log.info("recovery link clicked", { case_id: caseId, job_id: jobId, is_bot: isBot });
  return row.destination;
}

async function lookUpDestination(sql: Sql, caseId: string) {
  const [row] = await withTimeout(
    sql<{ destination: string | null }[]>`select private.link_destination(${caseId}::uuid) as destination`,
    DB_TIMEOUT_MS,
    "database",
  );
  return row.destination;
}

/** The member's address: the first X-Forwarded-For entry behind a proxy, else the peer address. */
function clientIp(c: Context): string | null {
  const forwarded = c.req.header("x-forwarded-for")?.split(",")[0].trim().toLowerCase();
  if (forwarded) return forwarded;
  // Deno.serve hands the connection info to app.fetch as its second argument (Hono's `env`).
  const remote = (c.env as { remoteAddr?: { hostname?: unknown } } | undefined)?.remoteAddr;
  return typeof remote?.hostname === "string" ? remote.hostname : null;
}

/** The creator's name, for the page a member sees when their link has nowhere to go. */
async function creatorOf(sql: Sql, caseId: string): Promise<string | null> {
  const [row] = await withTimeout(
    sql<{ title: string | null }[]>`
      select c.title from public.recovery_cases rc join public.companies c on c.company_id = rc.company_id
      where rc.id = ${caseId}::uuid`,
    DB_TIMEOUT_MS,
    "database",
  );
  return row?.title ?? null;
}

/** Every answer here is read by a member, who never chose Churn Saver: the page speaks in the
 * creator's name (when known) and leads back into Whop. */
function failure(c: Context, failure: Failure, creator: string | null = null): Response {
  const headers = failure.headers ?? {};
  if (/\btext\/html\b/i.test(c.req.header("accept") ?? "")) {
    const page = h(MemberPage, { creator, title: failure.title, children: h("p", null, failure.message) });
    return c.html("<!doctype html>" + renderToString(page), failure.status, headers);
  }
  return c.json(errorBody(failure.code, failure.message), failure.status, headers);
}
