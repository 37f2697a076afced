// One HTTP round trip to Whop, bounded in time: the timer covers the headers AND the body, and on
// expiry the request is aborted (which also cancels the body). The race against the abort makes the
// bound hold even for an injected fetch that ignores its signal.
import type { WhopRawAnswer } from "./client_outcome.ts";

export interface WhopTransport {
  /** Whop's API root including `/api/v1`, without a trailing slash. */
  baseUrl: string;
  headers: Headers;
  timeoutMs: number;
  fetch: typeof fetch;
}

export interface WhopRequest {
  method: "GET" | "POST";
  /** Already URL-encoded, starting with "/". */
  path: string;
  body?: unknown;
  idempotencyKey?: string;
}

export async function sendWhopRequest(
  transport: WhopTransport,
  request: WhopRequest,
): Promise<{ answer: WhopRawAnswer; latencyMs: number }> {
  const headers = new Headers(transport.headers);
  if (request.idempotencyKey !== undefined) headers.set("idempotency-key", request.idempotencyKey);
  const init: RequestInit = {
    method: request.method,
    headers,
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    // Whop's API does not redirect; following one could carry the key somewhere else.
    redirect: "manual",
  };

  const controller = new AbortController();
  const timedOut = new Promise<never>((_, reject) => {
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
  });
  const timer = setTimeout(
    () => controller.abort(new DOMException("timeout", "TimeoutError")),
    transport.timeoutMs,
  );
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let response: Response | undefined;

  const roundTrip = async (): Promise<WhopRawAnswer> => {
    response = await transport.fetch(transport.baseUrl + request.path, {
      ...init,
      signal: controller.signal,
    });
    const text = await response.text();
    return { kind: "answered", status: response.status, headers: response.headers, text };
  };

  try {
    const answer = await Promise.race([roundTrip(), timedOut]);
    return { answer, latencyMs: elapsed() };
  } catch (error) {
    // The abort already errors an unread body; this covers a fetch that ignored the signal.
    if (response?.body && !response.bodyUsed) await response.body.cancel().catch(() => {});
    const answer: WhopRawAnswer = controller.signal.aborted
      ? { kind: "timeout", timeoutMs: transport.timeoutMs }
      : { kind: "network", error };
    return { answer, latencyMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}
