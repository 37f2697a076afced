// GET /experiences/:experienceId/* — the app's experience view (WHOP.md section 3), where Whop opens
// a push notification's `rest_path` for the member who tapped it. `recover/<case id>` counts as a
// click of the case's recovery link and sends the member where that link goes; any other path, or a
// case with nowhere to go, gets a page that speaks to the member and leads back into Whop. Only the
// case's own member (the verified `x-whop-user-token`'s subject) is let through: a creator or
// another member learns nothing about the case and records nothing.
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { renderToString } from "preact-render-to-string";
import { isBotOrPreview } from "../../supabase/functions/_shared/bots.ts";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { errorBody, HttpError } from "../../supabase/functions/_shared/http.ts";
import { log } from "../../supabase/functions/_shared/log.ts";
import { withTimeout } from "../../supabase/functions/_shared/timeout.ts";
import { MemberPage } from "../components/MemberPage.tsx";
import { redirectTarget } from "../lib/redirect_target.ts";

const DB_TIMEOUT_MS = 3000;
const EXPERIENCE_ID = /^exp_[A-Za-z0-9]{1,64}$/;
const RECOVER_PATH = /^recover\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/?$/i;

/** Verifies a Whop user token and returns its user id, or throws a 401 HttpError. */
export type IdentifyUser = (token: string | undefined) => Promise<string>;

interface MemberAnswer {
  status: ContentfulStatusCode;
  code: string;
  title: string;
  message: string;
  creator?: string | null;
}

const NOT_YOURS: MemberAnswer = {
  status: 404,
  code: "not_found",
  title: "Nothing to show here",
  message:
    "This link is not for the Whop account you are signed in with. Open Whop to manage your memberships.",
};
const NOWHERE: Omit<MemberAnswer, "creator"> = {
  status: 200,
  code: "no_destination",
  title: "Manage your membership in Whop",
  message: "Open Whop, go to your memberships and update your payment details there to keep your access.",
};
const UNAVAILABLE: MemberAnswer = {
  status: 503,
  code: "service_unavailable",
  title: "Please try again in a moment",
  message:
    "We could not open this just now. Please try again in a minute, or open Whop to manage your membership.",
};

export function experienceRoutes(sql: Sql, identify: IdentifyUser) {
  const routes = new Hono();

  routes.get("/experiences/:experienceId/*", async (c) => {
    const experienceId = c.req.param("experienceId");
    if (!EXPERIENCE_ID.test(experienceId)) return answer(c, NOT_YOURS);
    let userId: string;
    try {
      userId = await identify(c.req.header("x-whop-user-token"));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      return answer(c, {
        status: error.status as ContentfulStatusCode,
        code: error.code,
        title: "Open this from Whop",
        message: error.message,
      });
    }
    const caseId = RECOVER_PATH.exec(c.req.path.slice(`/experiences/${experienceId}/`.length))?.[1];
    if (!caseId) return answer(c, { ...NOWHERE, creator: null });

    let click: { found: boolean; destination?: string | null; company_title?: string | null };
    try {
      const isBot = isBotOrPreview(c.req.header("user-agent") ?? null, c.req.raw.headers);
      const [row] = await withTimeout(
        sql<{ click: typeof click }[]>`
          select private.record_member_click(${caseId}::uuid, ${userId}, ${isBot}) as click`,
        DB_TIMEOUT_MS,
        "database",
      );
      click = row.click;
    } catch (error) {
      log.warn("experience view: database unavailable", { case_id: caseId, error });
      return answer(c, UNAVAILABLE, { "retry-after": "10" });
    }
    if (!click.found) return answer(c, NOT_YOURS);
    log.info("experience view: recovery tap", { case_id: caseId, has_destination: !!click.destination });
    const location = redirectTarget(click.destination);
    if (location) return c.body(null, 302, { location, "cache-control": "no-store" });
    return answer(c, { ...NOWHERE, creator: click.company_title ?? null });
  });
  routes.get("/experiences/:experienceId", (c) => c.redirect(`${c.req.path}/`, 308));

  return routes;
}

function answer(c: Context, a: MemberAnswer, headers: Record<string, string> = {}): Response {
  const all = { "cache-control": "no-store", ...headers };
  if (/\btext\/html\b/i.test(c.req.header("accept") ?? "")) {
    const page = (
      <MemberPage creator={a.creator ?? null} title={a.title}>
        <p>{a.message}</p>
      </MemberPage>
    );
    return c.html("<!doctype html>" + renderToString(page), a.status, all);
  }
  return c.json(
    a.status < 400 ? { status: a.code, message: a.message } : errorBody(a.code, a.message),
    a.status,
    all,
  );
}
