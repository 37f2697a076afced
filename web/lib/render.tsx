// Server-side rendering of a page component into a full HTML answer.
import type { Context } from "hono";
import type { ComponentChildren } from "preact";
import { renderToString } from "preact-render-to-string";
import { Layout } from "../components/Layout.tsx";

export function renderPage(c: Context, title: string, body: ComponentChildren, status: 200 | 404 = 200) {
  return c.html("<!doctype html>" + renderToString(<Layout title={title}>{body}</Layout>), status);
}
