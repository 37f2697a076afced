import assert from "node:assert/strict";
import { errorReporting } from "../../supabase/functions/_shared/sentry.ts";

Deno.test("a malformed SENTRY_DSN stops the app at start, naming the variable", () => {
  for (
    const dsn of [
      "not a url",
      "https://o1.ingest.sentry.io/42",
      "https://key@o1.ingest.sentry.io/",
      "ftp://k@h/1",
    ]
  ) {
    assert.throws(
      () => errorReporting("test", new Map([["SENTRY_DSN", dsn]])),
      /SENTRY_DSN is not a Sentry DSN/,
    );
  }
  assert.equal(typeof errorReporting("test", new Map()), "function", "unset: reporting off, nothing checked");
});
