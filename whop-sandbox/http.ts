// Response helpers that produce Whop's error shapes. Plain Responses (not Hono's c.json) so any status
// code, including ones injected by faults, can be used without fighting Hono's status typing.

export function jsonResponse(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** Whop's general error shape: `{"error":{"code":"...","message":"..."}}`. */
export function whopError(
  status: number,
  code: string,
  message: string,
  headers: HeadersInit = {},
): Response {
  return jsonResponse({ error: { code, message } }, status, headers);
}

/** Whop's rate-limit shape (note `type`, not `code`). */
export function rateLimitBody(retryAfterSeconds: number): unknown {
  return { error: { type: "rate_limit_exceeded", message: `Try again in ${retryAfterSeconds} seconds.` } };
}

/** Default error code for a status, used when a fault gives no body of its own. */
export function defaultErrorCode(status: number): string {
  const codes: Record<number, string> = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "unprocessable_entity",
    500: "internal_server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
  };
  return codes[status] ?? (status >= 500 ? "internal_server_error" : "error");
}

/** Parses a request body: JSON when it parses, the raw text otherwise, null when empty. */
export function parseBody(raw: string): { value: unknown; isJson: boolean } {
  if (raw.trim() === "") return { value: null, isJson: false };
  try {
    return { value: JSON.parse(raw), isJson: true };
  } catch {
    return { value: raw, isJson: false };
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
