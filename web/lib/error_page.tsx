// Errors as people see them: a page that says what happened and what to do, for browsers; the
// usual JSON for everything else.
import type { Context } from "hono";
import { renderToString } from "preact-render-to-string";
import { handleError, HttpError } from "../../supabase/functions/_shared/http.ts";
import { Layout } from "../components/Layout.tsx";

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

export function handleErrorWithPages(error: Error, c: Context): Response {
  const wantsHtml = (c.req.header("accept") ?? "").includes("text/html");
  if (!wantsHtml || !(error instanceof HttpError)) return handleError(error, c);
  const title = TITLES_BY_CODE[error.code] ?? TITLES[error.status];
  const html = renderToString(
    <Layout title={title ?? "Error"}>
      <section class="card error-page">
        <h1>{title ?? "Something went wrong"}</h1>
        <p>{error.message}</p>
      </section>
    </Layout>,
  );
  return c.html("<!doctype html>" + html, error.status, error.headers);
}
