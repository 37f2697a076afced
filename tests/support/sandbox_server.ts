// A fresh Whop sandbox served on a free loopback port, for tests that need one of their own (not the
// shared stack's): its origin, its control API, and a way to stop it.
import assert from "node:assert/strict";
import { createSandbox } from "../../whop-sandbox/app.ts";

export type SandboxOptions = Parameters<typeof createSandbox>[0];

export interface ServedSandbox {
  sandbox: ReturnType<typeof createSandbox>;
  origin: string;
  /** Calls `/_sandbox<path>`; a non-2xx answer fails the test with the sandbox's message. */
  control<T = Record<string, unknown>>(method: string, path: string, payload?: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function serveSandbox(options: SandboxOptions): Promise<ServedSandbox> {
  const sandbox = createSandbox(options);
  await sandbox.ready;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, sandbox.app.fetch);
  const origin = `http://127.0.0.1:${server.addr.port}`;
  async function control<T>(method: string, path: string, payload?: unknown): Promise<T> {
    const response = await fetch(`${origin}/_sandbox${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    const json = await response.json();
    assert.ok(response.ok, `control ${method} ${path}: ${JSON.stringify(json)}`);
    return json as T;
  }
  return { sandbox, origin, control, close: () => server.shutdown() };
}
