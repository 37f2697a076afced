// What error reporting costs a normal request: the dashboard app in-process, answering requests that
// touch no database (a static file, a 404), without SENTRY_DSN and with it (pointed at a local fake
// ingest, which must receive nothing). Server time per request, mean and 95th percentile.
//   deno task bench sentry [--requests 5000]
import { createApp } from "../../web/app.ts";
import { startFakeSentry } from "../support/fake_sentry.ts";
import { numberOption } from "./options.ts";

const WARM_UP = 200;

function env(extra: Record<string, string>) {
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  return new Map(Object.entries({
    // Never connected to: the measured requests do not touch the database or Whop.
    DATABASE_URL: "postgresql://postgres@127.0.0.1:1/postgres?sslmode=disable",
    APP_ENV: "production",
    LINK_SIGNING_KEY: "bench-link-signing-key-0123456789abcdef",
    WHOP_JWKS_URL: "http://127.0.0.1:1/jwks.json",
    WHOP_APP_ID: "app_bench",
    WHOP_API_KEY: "bench",
    WHOP_API_BASE_URL: "http://127.0.0.1:1/api/v1",
    ENCRYPTION_KEYS: `k1:${key}`,
    ...extra,
  }));
}

async function measure(
  app: { fetch: (request: Request) => Response | Promise<Response> },
  path: string,
  n: number,
) {
  const times: number[] = [];
  for (let i = 0; i < WARM_UP + n; i++) {
    const started = performance.now();
    const response = await app.fetch(new Request(`http://dashboard${path}`));
    await response.arrayBuffer();
    if (i >= WARM_UP) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((sum, t) => sum + t, 0) / times.length;
  return { mean, p95: times[Math.floor(times.length * 0.95)] };
}

export async function sentryBench(args: string[]) {
  const requests = numberOption(args, "requests", 5000);
  const sentry = startFakeSentry();
  try {
    const rows: string[] = [];
    for (
      const [label, extra] of [["without SENTRY_DSN", {}], ["with SENTRY_DSN", {
        SENTRY_DSN: sentry.dsn,
      }]] as const
    ) {
      const { app, close } = await createApp(env(extra));
      try {
        for (const path of ["/static/app.css", "/no-such-page"]) {
          const { mean, p95 } = await measure(app, path, requests);
          rows.push(`| ${label} | \`${path}\` | ${requests} | ${mean.toFixed(3)} | ${p95.toFixed(3)} |`);
        }
      } finally {
        await close();
      }
    }
    console.log(
      "| configuration | path | requests | mean (ms) | p95 (ms) |\n| --- | --- | --- | --- | --- |",
    );
    console.log(rows.join("\n"));
    console.log(`envelopes sent to the fake ingest: ${sentry.envelopes.length} (expected 0)`);
  } finally {
    await sentry.close();
  }
}
