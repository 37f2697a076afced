// Headers for every dashboard answer. The dashboard is shown inside Whop's iframe, so framing is
// allowed for Whop's origins only.
import type { MiddlewareHandler } from "hono";

export const WHOP_FRAME_ANCESTORS = "'self' https://whop.com https://*.whop.com";

export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header(
    "content-security-policy",
    `frame-ancestors ${WHOP_FRAME_ANCESTORS}; object-src 'none'; base-uri 'self'`,
  );
  c.header("x-content-type-options", "nosniff");
  c.header("referrer-policy", "strict-origin-when-cross-origin");
};
