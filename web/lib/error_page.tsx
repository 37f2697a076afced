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
  503: "Temporarily unavailable",
};

export function handleErrorWithPages(error: Error, c: Context): Response {
  const wantsHtml = (c.req.header("accept") ?? "").includes("text/html");
  if (!wantsHtml || !(error instanceof HttpError)) return handleError(error, c);
  const html = renderToString(
    <Layout title={TITLES[error.status] ?? "Error"}>
      <section class="card error-page">
        <h1>{TITLES[error.status] ?? "Something went wrong"}</h1>
        <p>{error.message}</p>
      </section>
    </Layout>,
  );
  return c.html("<!doctype html>" + html, error.status, error.headers);
}
