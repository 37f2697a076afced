// Shared-secret bearer checks (cron secret, ops token), compared in constant time.
import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "./constant_time.ts";
import { unauthorized } from "./http.ts";

// Re-exported for callers that imported it from here before constant_time.ts existed.
export { timingSafeEqual };

export function requireBearer(secret: string, what: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : "";
    if (!token || !timingSafeEqual(token, secret)) {
      throw unauthorized(`Send "Authorization: Bearer <${what}>".`);
    }
    await next();
  };
}
