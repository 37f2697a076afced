// Typed errors thrown by handlers, mapped to JSON answers in one place. Every error answer has the
// shape {"error": {"code": "...", "message": "..."}}; unexpected errors never leak their details.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { log } from "./log.ts";

export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export const badRequest = (message: string) => new HttpError(400, "bad_request", message);
export const unauthorized = (message: string) => new HttpError(401, "unauthorized", message);
export const forbidden = (message: string) => new HttpError(403, "forbidden", message);
export const notFound = (message: string) => new HttpError(404, "not_found", message);
export const serviceUnavailable = (message: string, retryAfterSeconds = 10) =>
  new HttpError(503, "service_unavailable", message, { "retry-after": String(retryAfterSeconds) });

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** For `app.onError`. */
export function handleError(error: Error, c: Context): Response {
  if (error instanceof HttpError) {
    return c.json(errorBody(error.code, error.message), error.status, error.headers);
  }
  log.error("unhandled error", { path: new URL(c.req.url).pathname, error });
  return c.json(errorBody("internal_error", "Something went wrong on our side. It has been logged."), 500);
}

/** For `app.notFound`. */
export function handleNotFound(c: Context): Response {
  return c.json(errorBody("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`), 404);
}
