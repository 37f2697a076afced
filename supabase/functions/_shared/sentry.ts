// Error reporting with @sentry/deno, on only when SENTRY_DSN is set. Each request runs in its own
// isolation scope (tags and breadcrumbs never leak between requests); a request that fails with an
// unexpected error or one of our 5xx errors is reported and the report is flushed before the answer
// goes out, with a bounded wait so a slow Sentry cannot hold answers up. Nothing that identifies a
// member or unlocks something is sent: no request bodies, headers, cookies, query strings, users or
// IP addresses, and every string left is passed through the logger's redaction.
import * as Sentry from "@sentry/deno";
import type { MiddlewareHandler } from "hono";
import { ConfigError, type EnvReader } from "./config.ts";
import { HttpError } from "./http.ts";
import { isSensitiveKey, log, redact, redactText } from "./log.ts";

/** The longest a failing request waits for its report to reach Sentry. */
export const SENTRY_FLUSH_TIMEOUT_MS = 2000;

type SentryEvent = Sentry.ErrorEvent;
type Breadcrumb = Sentry.Breadcrumb;

let initializedDsn: string | null = null;

/**
 * Starts Sentry for this process when `SENTRY_DSN` is set (once; the local functions gateway hosts
 * several apps in one process) and returns the Hono middleware that reports a request's errors.
 * Without a DSN the middleware only passes the request on.
 */
export function errorReporting(service: string, env: EnvReader): MiddlewareHandler {
  const dsn = env.get("SENTRY_DSN")?.trim();
  if (!dsn) return (_c, next) => next();
  const host = sentryDsnHost(dsn);
  if (initializedDsn !== dsn) {
    Sentry.init({
      dsn,
      environment: env.get("APP_ENV")?.trim() || "production",
      release: env.get("SENTRY_RELEASE")?.trim() || undefined,
      sendDefaultPii: false,
      // Only what we choose: the serve integration installs the per-request (AsyncLocalStorage)
      // scopes; no request-data, console-capture or source-context integrations.
      defaultIntegrations: false,
      integrations: [
        Sentry.denoServeIntegration(),
        Sentry.linkedErrorsIntegration(),
        Sentry.dedupeIntegration(),
        Sentry.breadcrumbsIntegration({ console: false, fetch: true }),
      ],
      skipOpenTelemetrySetup: true,
      maxBreadcrumbs: 30,
      beforeSend: scrubEvent,
      beforeBreadcrumb: scrubBreadcrumb,
    });
    initializedDsn = dsn;
    log.info("error reporting on", { service, sentry_host: host });
  }
  return (c, next) =>
    Sentry.withIsolationScope(async (scope) => {
      scope.setTag("service", service);
      await next();
      if (!shouldReport(c.error)) return;
      const status = c.res.status;
      // The route pattern, not the path: paths carry tokens (/r/<token>) and ids.
      const route = `${c.req.method} ${c.req.routePath}`;
      scope.setTransactionName(route);
      scope.setTag("http.route", c.req.routePath);
      scope.setContext("response", { status_code: status });
      Sentry.captureException(c.error, {
        mechanism: { handled: true, type: "hono.onError" },
      });
      await Sentry.flush(SENTRY_FLUSH_TIMEOUT_MS);
    });
}

/** The host of a DSN (`https://<public key>@<host>/<project id>`), failing at start on anything else. */
export function sentryDsnHost(dsn: string): string {
  let url: URL | null = null;
  try {
    url = new URL(dsn);
  } catch {
    // reported below
  }
  if (!url || !["http:", "https:"].includes(url.protocol) || !url.username || !/^\/\d+$/.test(url.pathname)) {
    throw new ConfigError(
      "SENTRY_DSN is not a Sentry DSN: copy it from Sentry (Project Settings > Client Keys), " +
        "it looks like https://<public key>@<host>/<project id>. Unset it to turn error reporting off.",
    );
  }
  return url.host;
}

/**
 * Errors thrown while handling the request: unexpected ones, and ours that say the server failed
 * (5xx). Not the caller's mistakes (4xx), and not answers a handler chose to give (a health check's
 * 503 is its job; probes would flood Sentry and wait for it during an outage).
 */
function shouldReport(error: Error | undefined): error is Error {
  if (error instanceof HttpError) return error.status >= 500;
  return error !== undefined;
}

/** beforeSend: drops what can identify a person, redacts every string that is left. */
export function scrubEvent(event: SentryEvent): SentryEvent {
  delete event.request;
  delete event.user;
  delete event.server_name;
  if (event.message) event.message = redactText(event.message);
  for (const exception of event.exception?.values ?? []) {
    if (exception.value) exception.value = redactText(exception.value);
  }
  if (event.extra) event.extra = redact(event.extra) as SentryEvent["extra"];
  if (event.tags) event.tags = redact(event.tags) as SentryEvent["tags"];
  // Contexts are Sentry's own shapes (runtime name, trace ids): redact their strings, keep their keys.
  if (event.contexts) event.contexts = redactStrings(event.contexts) as SentryEvent["contexts"];
  if (event.breadcrumbs) {
    event.breadcrumbs = event.breadcrumbs.map(scrubBreadcrumb).filter((crumb) => crumb !== null);
  }
  return event;
}

function redactStrings(value: unknown): unknown {
  if (typeof value === "string") return redactText(value);
  if (Array.isArray(value)) return value.map(redactStrings);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactStrings(item)]));
  }
  return value;
}

/** beforeBreadcrumb: URLs lose their query strings; messages and data are redacted. */
export function scrubBreadcrumb(crumb: Breadcrumb): Breadcrumb {
  const data = crumb.data ? { ...crumb.data } : undefined;
  if (data) {
    for (const key of Object.keys(data)) {
      if (isSensitiveKey(key)) data[key] = "[redacted]";
      else if (key === "url" && typeof data.url === "string") data.url = redactText(data.url.split("?")[0]);
      else data[key] = redact(data[key]);
    }
  }
  return { ...crumb, message: crumb.message ? redactText(crumb.message) : crumb.message, data };
}
