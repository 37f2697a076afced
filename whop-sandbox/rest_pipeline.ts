// The middleware every `/api/v1` call passes through, in the order Whop's edge would apply it:
// injected fault (latency, then maybe an error) -> API key check -> optional rate limit -> idempotent
// replay (unless the sandbox ignores Idempotency-Key, as Whop may) -> the route handler. A fault
// marked `after_effect` instead lets the call take effect first and then delays and/or replaces the
// answer: a timeout or 5xx whose request did happen. Whatever the outcome, the call is written to
// the call log afterwards.
import type { MiddlewareHandler } from "hono";
import type { RestEnv, SandboxContext } from "./context.ts";
import type { Fault } from "./faults.ts";
import { defaultErrorCode, delay, jsonResponse, parseBody, rateLimitBody, whopError } from "./http.ts";
import { IdempotencyCache, type StoredAnswer } from "./idempotency.ts";
import { operationOf } from "./rate_limit.ts";

const MUTATIONS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

export function restPipeline(ctx: SandboxContext): MiddlewareHandler<RestEnv> {
  return async (c, next) => {
    const started = performance.now();
    const { state } = ctx;
    const method = c.req.method.toUpperCase();
    const url = new URL(c.req.url);
    const path = url.pathname;
    const raw = method === "GET" || method === "HEAD" ? "" : await c.req.text();
    const parsed = parseBody(raw);
    c.set("body", parsed.value);
    c.set("bodyIsJson", parsed.isJson);

    const authorization = c.req.header("authorization") ?? null;
    const authMatched = ctx.apiKey === null || authorization === `Bearer ${ctx.apiKey}`;
    const idempotencyKey = c.req.header("idempotency-key") ?? null;
    // Taken synchronously on arrival: a fault switched on before this call is always seen by it.
    const fault = state.faults.take(method, path);
    let replay = false;

    const answer = async (): Promise<Response> => {
      if (fault && !fault.after_effect) {
        if (fault.latency_ms) await delay(fault.latency_ms);
        if (fault.status) return faultResponse(fault);
      }
      const response = await handle();
      if (!fault?.after_effect) return response;
      if (fault.latency_ms) await delay(fault.latency_ms);
      if (!fault.status) return response;
      await response.body?.cancel();
      // The handler has answered (Hono keeps c.res once a handler ran), so replace it there.
      c.res = faultResponse(fault);
      return c.res;
    };

    const handle = async (): Promise<Response> => {
      if (!authMatched) {
        return authorization
          ? whopError(401, "unauthorized", "The API key provided is invalid.")
          : whopError(401, "unauthorized", "Missing API key. Send it as 'Authorization: Bearer <key>'.");
      }
      const limit = state.settings.rate_limit_per_minute;
      if (limit !== null) {
        const wait = state.rateLimiter.hit(authorization ?? "anonymous", operationOf(method, path), limit);
        if (wait !== null) {
          const headers: HeadersInit = state.settings.rate_limit_retry_after_header
            ? { "retry-after": String(wait) }
            : {};
          return jsonResponse(rateLimitBody(wait), 429, headers);
        }
      }
      if (idempotencyKey && MUTATIONS.has(method) && !state.settings.ignore_idempotency_key) {
        const result = await state.idempotency.run(
          IdempotencyCache.key(method, path, idempotencyKey),
          async () => {
            await next();
            return await snapshot(c.res.clone());
          },
        );
        replay = result.replay;
        // The first call answers with the handler's own response (Hono has already committed it);
        // replays never reached a handler, so they answer from the stored copy.
        return replay ? fromSnapshot(result.answer, true) : c.res;
      }
      await next();
      return c.res;
    };

    const response = await answer();
    state.calls.add({
      seq: state.calls.nextSeq(),
      at: new Date().toISOString(),
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      headers: loggedHeaders(c.req.raw.headers),
      auth_matched: authMatched,
      idempotency_key: idempotencyKey,
      idempotent_replay: replay,
      body: parsed.value,
      status: response.status,
      fault_id: fault?.id ?? null,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
    });
    return response;
  };
}

/** The answer an injected fault produces. A 429 defaults to Whop's rate-limit shape. */
export function faultResponse(fault: Fault): Response {
  const status = fault.status ?? 500;
  const headers = new Headers();
  const seconds = fault.retry_after_seconds ?? 1;
  if (fault.retry_after_header) headers.set("retry-after", String(seconds));
  if (NULL_BODY_STATUSES.has(status)) return new Response(null, { status, headers });
  const body = fault.body ??
    (status === 429
      ? rateLimitBody(seconds)
      : { error: { code: defaultErrorCode(status), message: `Injected sandbox fault ${fault.id}.` } });
  if (typeof body === "string") {
    headers.set("content-type", "text/plain; charset=utf-8");
    return new Response(body, { status, headers });
  }
  return jsonResponse(body, status, headers);
}

async function snapshot(res: Response): Promise<StoredAnswer> {
  return {
    status: res.status,
    body: await res.text(),
    contentType: res.headers.get("content-type") ?? "application/json; charset=utf-8",
  };
}

function fromSnapshot(answer: StoredAnswer, replay: boolean): Response {
  const headers = new Headers({ "content-type": answer.contentType });
  if (replay) headers.set("idempotent-replayed", "true");
  const body = NULL_BODY_STATUSES.has(answer.status) ? null : answer.body;
  return new Response(body, { status: answer.status, headers });
}

function loggedHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = name === "authorization" ? (value.startsWith("Bearer ") ? "Bearer ***" : "***") : value;
  });
  return out;
}
