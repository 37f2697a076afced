// Turns request bodies into typed values or Whop-shaped errors: 400 for a body that is not JSON,
// 422 naming the first offending field for a body that does not fit.
import type { Context } from "hono";
import type { z } from "zod";
import type { RestEnv } from "./context.ts";
import { whopError } from "./http.ts";

export type Parsed<T> = { ok: true; value: T } | { ok: false; response: Response };

export function parseRequestBody<S extends z.ZodType>(c: Context<RestEnv>, schema: S): Parsed<z.infer<S>> {
  let body = c.get("body");
  if (body !== null && !c.get("bodyIsJson")) {
    return { ok: false, response: whopError(400, "bad_request", "The request body is not valid JSON.") };
  }
  if (body === null) body = {};
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
    return { ok: false, response: whopError(422, "invalid_params", `${where}${issue.message}`) };
  }
  return { ok: true, value: result.data };
}

export function notFound(kind: string, id: string): Response {
  return whopError(404, "not_found", `${kind} not found: ${id}`);
}
