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
