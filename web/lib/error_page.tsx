// Errors as people see them: a page that says what happened and what to do, with a way on, for
// browsers; the usual JSON (supabase/functions/_shared/http.ts) for everything else. Unexpected
// errors are logged there, and their pages say nothing of the cause.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { renderToString } from "preact-render-to-string";
import { handleError, handleNotFound, HttpError } from "../../supabase/functions/_shared/http.ts";
import { Layout } from "../components/Layout.tsx";
import { COMPANY_ID_PATTERN } from "../routes/dashboard/context.ts";

const TITLES: Record<number, string> = {
  400: "Something in the request is not right",
  401: "Please open Churn Saver from Whop",
  403: "This dashboard is not yours",
  404: "Not found",
  410: "This has expired",
  429: "Too many requests just now",
  503: "Temporarily unavailable",
};
/** Where the status alone would say the wrong thing. */
const TITLES_BY_CODE: Record<string, string> = {
  cross_site_request: "This request was refused",
  not_installed: "Churn Saver is not set up for this company",
};
/** Where someone who lost their way can always start again: a creator in their Whop dashboard, where
 * Churn Saver is opened from; anyone else on Whop. */
const WHOP_DASHBOARD = { href: "https://whop.com/dashboard", label: "Go to your Whop dashboard" };
const WHOP_HOME = { href: "https://whop.com/", label: "Go to Whop" };

const UNEXPECTED = {
  title: "Something went wrong on our side",
  message: "Churn Saver could not load this page just now. This is not something you did, and nothing " +
    "in your settings or your members' cases was changed. The problem has been logged. Please try again " +
    "in a minute.",
};
const NO_SUCH_PAGE = "There is no page at this address. It may have moved, or the link may be incomplete.";

interface ErrorPage {
  status: ContentfulStatusCode;
  code: string;
  title: string;
  message: string;
  headers?: Record<string, string>;
}

function wantsHtml(c: Context): boolean {
  return (c.req.header("accept") ?? "").includes("text/html");
}

/** For `app.onError`. */
export function handleErrorWithPages(error: Error, c: Context): Response {
  if (!wantsHtml(c)) return handleError(error, c);
  if (!(error instanceof HttpError)) {
    const logged = handleError(error, c); // logs it and says which status
    return errorPage(c, {
      status: logged.status as ContentfulStatusCode,
      code: "internal_error",
      ...UNEXPECTED,
    });
  }
  return errorPage(c, {
    status: error.status,
    code: error.code,
    title: TITLES_BY_CODE[error.code] ?? TITLES[error.status] ?? "Something went wrong",
    message: error.message,
    headers: error.headers,
  });
}

/** For `app.notFound`. */
export function notFoundWithPages(c: Context): Response {
  if (!wantsHtml(c)) return handleNotFound(c);
  return errorPage(c, { status: 404, code: "not_found", title: "Page not found", message: NO_SUCH_PAGE });
}

const DASHBOARD_ADDRESS = /^\/dashboard(?:\/([^/]+))?/;

function isDashboardAddress(c: Context): boolean {
  return DASHBOARD_ADDRESS.test(new URL(c.req.url).pathname);
}

/** The company of a dashboard address (/dashboard/<company>/...), when the address has one. */
function dashboardCompany(c: Context): string | null {
  const segment = DASHBOARD_ADDRESS.exec(new URL(c.req.url).pathname)?.[1] ?? "";
  return COMPANY_ID_PATTERN.test(segment) ? segment : null;
}

function errorPage(c: Context, page: ErrorPage): Response {
  const company = dashboardCompany(c);
  // The way on: again for what may pass (5xx, 429); the company's overview when it is one the
  // viewer may open; otherwise Whop, where Churn Saver is opened from.
  const retry = page.status >= 500 || page.status === 429;
  const overview = company !== null && page.status === 404 && page.code !== "not_installed";
  const whop = isDashboardAddress(c) ? WHOP_DASHBOARD : WHOP_HOME;
  const html = renderToString(
    <Layout title={page.title}>
      <section class="card error-page" data-status={page.status}>
        <h1>{page.title}</h1>
        <p>{page.message}</p>
        <p class="page-actions">
          {/* An empty href is this very address: the page asked for, by GET. */}
          {retry && <a class="button primary" href="">Try again</a>}
          {overview && <a class="button" href={`/dashboard/${company}`}>Go to the overview</a>}
          {!overview && <a class="button" href={whop.href} target="_top">{whop.label}</a>}
        </p>
      </section>
    </Layout>,
  );
  return c.html("<!doctype html>" + html, page.status, { ...page.headers, "cache-control": "no-store" });
}
