// What the tests know about the running stack: scripts/test.sh starts it and sets these variables.
import postgres from "postgres";

export function stackVar(name: string): string {
  const value = Deno.env.get(name);
  if (!value) {
    throw new Error(
      `${name} is not set. Run the tests with scripts/test.sh, which starts the stack and sets it.`,
    );
  }
  return value;
}

export const stack = {
  get databaseUrl() {
    return stackVar("DATABASE_URL");
  },
  get functionsUrl() {
    return stackVar("FUNCTIONS_URL");
  },
  get dashboardUrl() {
    return stackVar("DASHBOARD_URL");
  },
  get sandboxUrl() {
    return stackVar("WHOP_SANDBOX_URL");
  },
};

/** Calls the stack's Whop sandbox control API (`/_sandbox<path>`); a non-2xx answer throws its message. */
export async function sandboxControl(method: string, path: string, body?: unknown) {
  const response = await fetch(`${stack.sandboxUrl}/_sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`sandbox ${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** A short-lived superuser connection for checking what is in the database. Close it with `end()`. */
export function connectAsOwner() {
  return postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
}

/** Fetches JSON, returning status, headers and the parsed body. */
export async function getJson(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${url} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`);
  }
  return { status: response.status, headers: response.headers, body: body as Record<string, unknown> };
}

/** A database URL that refuses connections: a port nothing listens on. */
export function unreachableDatabaseUrl() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
}

/** Everything the dashboard needs to start, from the running stack, with `overrides` on top. */
export function dashboardEnv(overrides: Record<string, string> = {}) {
  return new Map(Object.entries({
    DATABASE_URL: stack.databaseUrl,
    APP_ENV: "local",
    LINK_SIGNING_KEY: stackVar("LINK_SIGNING_KEY"),
    WHOP_JWKS_URL: stackVar("WHOP_JWKS_URL"),
    WHOP_APP_ID: stackVar("WHOP_APP_ID"),
    WHOP_API_KEY: stackVar("WHOP_API_KEY"),
    WHOP_API_BASE_URL: stackVar("WHOP_API_BASE_URL"),
    ENCRYPTION_KEYS: stackVar("ENCRYPTION_KEYS"),
    OPS_TOKEN: stackVar("OPS_TOKEN"),
    ...overrides,
  }));
}
