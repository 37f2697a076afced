// The local stack runner: starts the functions gateway, the dashboard and the Whop sandbox as child
// processes, prefixes and saves their logs, waits until each answers its health check, prints the
// URLs, and stops them all on Ctrl-C (or when one of them dies).
//   deno run -A scripts/stack.ts [--logs DIR] [--quiet]
// Configuration comes from the environment (scripts/dev.sh and scripts/test.sh set it).
import { readPort } from "../supabase/functions/_shared/config.ts";
import { log } from "../supabase/functions/_shared/log.ts";

interface Service {
  name: string;
  entry: string;
  healthUrl: string;
  color: number;
}

const root = new URL("../", import.meta.url);
const args = parseArgs(Deno.args);
const env = Deno.env;
const functionsPort = readPort(env, "FUNCTIONS_PORT", 54321);
const dashboardPort = readPort(env, "DASHBOARD_PORT", 8000);
const sandboxPort = readPort(env, "WHOP_SANDBOX_PORT", 54330);

const services: Service[] = [
  {
    name: "whop-sandbox",
    entry: "whop-sandbox/main.ts",
    healthUrl: `http://127.0.0.1:${sandboxPort}/_sandbox/health`,
    color: 35,
  },
  {
    name: "functions",
    entry: "scripts/local/functions_gateway.ts",
    healthUrl: `http://127.0.0.1:${functionsPort}/health`,
    color: 36,
  },
  {
    name: "dashboard",
    entry: "web/main.ts",
    healthUrl: `http://127.0.0.1:${dashboardPort}/api/health`,
    color: 32,
  },
];

const children = new Map<string, Deno.ChildProcess>();
let stopping = false;

for (const service of services) children.set(service.name, start(service));
for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, () => shutdown(0));

try {
  await Promise.all(services.map((service) => waitHealthy(service, 60_000)));
} catch (error) {
  console.error(`\n${(error as Error).message}`);
  await shutdown(1);
}
printBanner();
startDispatchCadence();

/** Locally, the runner stands in for the pg_cron job that calls the dispatcher in production. */
function startDispatchCadence() {
  const seconds = Number(env.get("DISPATCH_INTERVAL_SECONDS") ?? "5");
  const secret = env.get("CRON_SECRET");
  if (!(seconds > 0) || !secret) return;
  const url = `http://127.0.0.1:${functionsPort}/functions/v1/dispatch-notifications`;
  let running = false;
  setInterval(async () => {
    if (running || stopping) return;
    running = true;
    try {
      const response = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${secret}` } });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) log.error("dispatch round failed", { status: response.status, answer: body });
      else if (body.claimed || body.suppressed || body.skipped || body.cancelled) {
        log.info("dispatch round", body);
      }
    } catch (error) {
      if (!stopping) log.error("dispatch round failed", { error });
    } finally {
      running = false;
    }
  }, seconds * 1000);
}

function start(service: Service): Deno.ChildProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL(service.entry, root).pathname],
    cwd: root.pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logFile = args.logs
    ? Deno.openSync(`${args.logs}/${service.name}.log`, { create: true, append: true })
    : null;
  const prefix = `\x1b[${service.color}m${service.name.padEnd(12)}\x1b[0m| `;
  for (const stream of [child.stdout, child.stderr]) pipeLines(stream, prefix, logFile);
  child.status.then((status) => {
    logFile?.close();
    if (!stopping) {
      console.error(`\n${service.name} exited unexpectedly (code ${status.code}); stopping the stack.`);
      shutdown(1);
    }
  });
  return child;
}

async function pipeLines(stream: ReadableStream<Uint8Array>, prefix: string, file: Deno.FsFile | null) {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      file?.writeSync(encoder.encode(line + "\n"));
      if (!args.quiet) console.log(prefix + line);
    }
  }
}

async function waitHealthy(service: Service, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const response = await fetch(service.healthUrl, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `${service.name} did not become healthy within ${timeoutMs / 1000} s (${service.healthUrl}: ${last}).`,
  );
}

function printBanner() {
  const lines = [
    "",
    "\x1b[1mChurn Saver local stack is up\x1b[0m",
    `  Dashboard        http://127.0.0.1:${dashboardPort}`,
    `  Local login      http://127.0.0.1:${dashboardPort}/dev/login`,
    `  Ops              http://127.0.0.1:${dashboardPort}/api/health   (/api/metrics, /api/alerts: Bearer $OPS_TOKEN)`,
    `  Functions        http://127.0.0.1:${functionsPort}/functions/v1/<name>   (whop-webhook, dispatch-notifications)`,
    `  Dispatch         every ${
      env.get("DISPATCH_INTERVAL_SECONDS") ?? "5"
    } s (DISPATCH_INTERVAL_SECONDS; 0 = off)`,
    `  Whop sandbox     http://127.0.0.1:${sandboxPort}   (calls: /_sandbox/calls)`,
    `  Postgres         ${redactUrl(env.get("DATABASE_URL") ?? "")}`,
    args.logs ? `  Logs             ${args.logs}/<service>.log` : "",
    // The scripts put the pinned deno on their own PATH; a new shell needs it for `deno task ...`.
    `  CLIs             export PATH="${root.pathname}node_modules/.bin:$PATH"   then: deno task rollout status`,
    "Press Ctrl-C to stop.",
    "",
  ];
  console.log(lines.filter((line) => line !== "").join("\n"));
}

function redactUrl(url: string) {
  return url.replace(/(\/\/[^:/]+:)[^@]+@/, "$1***@");
}

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  for (const child of children.values()) {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
  }
  const exited = Promise.all([...children.values()].map((child) => child.status));
  const timer = setTimeout(() => {
    for (const child of children.values()) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }, 5000);
  await exited;
  clearTimeout(timer);
  Deno.exit(code);
}

function parseArgs(argv: string[]) {
  const parsed: { logs?: string; quiet: boolean } = { quiet: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--logs") parsed.logs = argv[++i];
    else if (argv[i] === "--quiet") parsed.quiet = true;
    else {
      console.error(`stack.ts: unknown option "${argv[i]}" (options: --logs DIR, --quiet)`);
      Deno.exit(2);
    }
  }
  return parsed;
}
