// Shared-secret bearer checks (cron secret, ops token), compared in constant time.
import type { MiddlewareHandler } from "hono";
import { unauthorized } from "./http.ts";

const encoder = new TextEncoder();

/** Constant-time equality of two strings (time depends only on their lengths). */
export function timingSafeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  let diff = left.length ^ right.length;
  const length = Math.max(left.length, right.length);
  for (let i = 0; i < length; i++) diff |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return diff === 0;
}

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
