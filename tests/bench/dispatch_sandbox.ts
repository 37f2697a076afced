// The Whop sandbox the dispatch benchmark's workers call: over HTTP, a process of its own
// (whop-sandbox/main.ts on a free port), so that serving the calls takes no CPU from the workers'
// event loop; without HTTP, one in this process whose app is called directly (no socket, no HTTP
// parsing). Either way its call log is what the exactly-once check reads.
import { createSandbox } from "../../whop-sandbox/app.ts";
import { freePort } from "../support/dev_script.ts";

const root = new URL("../../", import.meta.url).pathname;

/** A call the sandbox answered, as far as the exactly-once check needs it. */
export interface LoggedCall {
  idempotency_key: string | null;
}

export interface BenchSandbox {
  /** Base URL of the REST API (`…/api/v1`); in-process, a placeholder host `fetch` answers. */
  apiBase: string;
  /** What the Whop client should use as fetch. */
  fetch: typeof fetch;
  /** Empties the call log, so that it holds one run's calls. */
  clearCalls(): Promise<void>;
  /** The calls to `path` since the log was last cleared. */
  calls(path: string): Promise<LoggedCall[]>;
  close(): Promise<void>;
}

/** whop-sandbox/main.ts in a child process on a free port. */
export async function sandboxProcess(apiKey: string, appId: string): Promise<BenchSandbox> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${root}whop-sandbox/main.ts`],
    cwd: root,
    env: { WHOP_SANDBOX_PORT: String(port), WHOP_API_KEY: apiKey, WHOP_APP_ID: appId },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const origin = `http://127.0.0.1:${port}`;
  const control = async (path: string, method = "GET") => {
    const response = await fetch(`${origin}/_sandbox${path}`, { method });
    if (!response.ok) throw new Error(`sandbox ${path} answered ${response.status}`);
    return await response.json();
  };
  const giveUpAt = Date.now() + 30_000;
  for (;;) {
    try {
      await control("/health");
      break;
    } catch (error) {
      if (Date.now() > giveUpAt) {
        child.kill();
        throw new Error(`the Whop sandbox did not start on port ${port}: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    apiBase: `${origin}/api/v1`,
    fetch: (input, init) => fetch(input, init),
    clearCalls: async () => void (await control("/calls", "DELETE")),
    calls: async (path) => (await control(`/calls?path=${encodeURIComponent(path)}`)).calls,
    close: async () => {
      child.kill("SIGTERM");
      await child.stderr.cancel();
      await child.status;
    },
  };
}

/** A sandbox in this process, answered by calling its app: the calls skip the network entirely. */
export async function sandboxInProcess(apiKey: string, appId: string): Promise<BenchSandbox> {
  const sandbox = createSandbox({ apiKey, appId });
  await sandbox.ready;
  return {
    apiBase: "http://sandbox.invalid/api/v1",
    fetch: (input, init) => Promise.resolve(sandbox.app.fetch(new Request(input, init))),
    clearCalls: () => Promise.resolve(sandbox.state.calls.clear()),
    calls: (path) => Promise.resolve(sandbox.state.calls.list({ path })),
    close: () => Promise.resolve(),
  };
}

/** Whether each of `keys` reached the sandbox's `path` exactly once (and nothing else did). */
export async function exactlyOnce(sandbox: BenchSandbox, path: string, keys: Set<string>) {
  const perKey = new Map<string, number>();
  for (const call of await sandbox.calls(path)) {
    const key = String(call.idempotency_key);
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  let duplicates = 0;
  let once = 0;
  let unexpected = 0;
  for (const [key, n] of perKey) {
    if (!keys.has(key)) unexpected += n;
    else if (n === 1) once++;
    else duplicates += n - 1;
  }
  const missing = [...keys].filter((key) => !perKey.has(key)).length;
  return {
    once,
    duplicates,
    missing,
    unexpected,
    ok: once === keys.size && duplicates === 0 && unexpected === 0,
  };
}
