// Our dispatcher against graphile-worker, side by side in one run on the same Postgres (issue 12).
// N due push jobs (seeded as the dispatch tests seed them) go out through P dispatchers of C calls
// in flight each; graphile-worker runs P runners of concurrency C whose task makes the same call
// (POST /notifications through our Whop client: same headers, an Idempotency-Key per job) to the
// same sandbox, once with its defaults and once with its batching options. Then both again with
// the HTTP call taken out, to compare the queues alone: the Whop client's fetch calls the sandbox's
// app in this process (no socket, no HTTP), so each job still makes the same client call and the
// sandbox still logs it, and what differs between the two is the queue. Every run checks from the
// sandbox's call log that each job reached it exactly once.
//
// The database is a throwaway cluster of its own (tests/support/cluster.ts: initdb, bootstrap, every
// migration), made durable as production is (fsync and synchronous_commit on), so no running stack
// is touched and no other dispatcher can take its jobs; it is removed afterwards, graphile-worker's
// schema dropped first. Postgres CPU (all of the cluster's processes) is measured per run, for the
// capacity model in BENCHMARKS.md.
//
//   deno task bench dispatch [--jobs 10000] [--dispatchers 4] [--concurrency 8] [--batch 100] [--quick]
import postgres from "postgres";
import { withOwnCluster } from "../support/cluster.ts";
import { makeDueJobs, withDispatchApp } from "../support/dispatch.ts";
import { setFlags } from "../support/webhooks.ts";
import {
  addPushJobs,
  batchedPreset,
  dropGraphile,
  installGraphile,
  type PushPayload,
  runGraphile,
} from "./dispatch_graphile.ts";
import { type BenchSandbox, exactlyOnce, sandboxInProcess, sandboxProcess } from "./dispatch_sandbox.ts";
import { printTable } from "./dashboard.ts";
import { numberOption } from "./options.ts";

const PUSH_PATH = "/api/v1/notifications";
const WHOP_TIMEOUT_MS = 10_000;

interface Settings {
  jobs: number;
  dispatchers: number;
  concurrency: number;
  batch: number;
}

interface RunResult {
  transport: "HTTP" | "no HTTP";
  worker: string;
  seconds: number;
  dbCpuMs: number;
  appCpuMs: number;
  check: Awaited<ReturnType<typeof exactlyOnce>>;
}

export async function dispatchBench(args: string[]) {
  const quick = args.includes("--quick");
  const settings: Settings = {
    jobs: numberOption(args, "jobs", quick ? 400 : 10_000),
    dispatchers: numberOption(args, "dispatchers", 4),
    concurrency: numberOption(args, "concurrency", 8),
    batch: numberOption(args, "batch", 100),
  };
  console.log(
    `dispatch: ${settings.jobs} push jobs per run, ${settings.dispatchers} workers × ${settings.concurrency} ` +
      `in flight, batches of ${settings.batch}; creating a Postgres cluster of its own ...`,
  );
  await withOwnCluster(async (cluster) => {
    const secrets = {
      apiKey: `sandbox_key_${crypto.randomUUID().replaceAll("-", "")}`,
      appId: "app_benchdispatch",
    };
    const sql = postgres(cluster.url, { max: 2, onnotice: () => {} });
    const sandboxes: BenchSandbox[] = [];
    try {
      // As durable as production: each commit waits for its WAL flush.
      await sql`alter system set fsync = on`;
      await sql`alter system set synchronous_commit = on`;
      await sql`alter system set full_page_writes = on`;
      await sql`select pg_reload_conf()`;
      const overHttp = await sandboxProcess(secrets.apiKey, secrets.appId);
      sandboxes.push(overHttp);
      const inProcess = await sandboxInProcess(secrets.apiKey, secrets.appId);
      sandboxes.push(inProcess);
      configureDispatchEnv(cluster.url, secrets);
      await setFlags(sql, { SCHEDULER_ENABLED: true, NOTIFICATIONS_ENABLED: true, ROLLBACK_MODE: false });
      await installGraphile(cluster.url);
      const cpu = await clusterCpuMs(sql);

      const results: RunResult[] = [];
      for (const [transport, sandbox] of [["HTTP", overHttp], ["no HTTP", inProcess]] as const) {
        const measure = async (worker: string, fn: (window: RunWindow) => Promise<{ keys: Set<string> }>) => {
          await sandbox.clearCalls();
          await sql`vacuum analyze`;
          await quiet(sql);
          console.log(`  ${transport}: ${worker} ...`);
          // Only the timed part is counted: seeding the jobs, starting and stopping the workers are not.
          const window = timedWindow(cpu);
          const { keys } = await fn(window);
          const { seconds, dbCpuMs, appCpuMs } = window.result();
          const result: RunResult = {
            transport,
            worker,
            seconds,
            dbCpuMs,
            appCpuMs,
            check: await exactlyOnce(sandbox, PUSH_PATH, keys),
          };
          console.log(
            `    ${
              Math.round(settings.jobs / seconds)
            } jobs/s; exactly once: ${result.check.once}/${keys.size}, ` +
              `${result.check.duplicates} duplicates, ${result.check.missing} missing`,
          );
          results.push(result);
        };
        await measure("ours", (window) => runOurs(sql, sandbox, settings, window));
        await measure(
          "graphile-worker defaults",
          (window) => runTheirs(cluster.url, sql, sandbox, settings, secrets, window),
        );
        await measure(
          "graphile-worker batched",
          (window) =>
            runTheirs(cluster.url, sql, sandbox, settings, secrets, window, batchedPreset(settings.batch, 0)),
        );
      }
      report(results, settings);
      const broken = results.filter((result) => !result.check.ok);
      if (broken.length > 0) {
        throw new Error(`not exactly once: ${broken.map((r) => `${r.transport} ${r.worker}`).join(", ")}`);
      }
    } finally {
      await dropGraphile(sql).catch(() => {});
      await sql.end();
      for (const sandbox of sandboxes) await sandbox.close();
    }
  });
}

/** The variables tests/support/dispatch.ts reads, pointed at the benchmark's own database. */
function configureDispatchEnv(databaseUrl: string, secrets: { apiKey: string; appId: string }) {
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  const hex = [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  Object.entries({
    DATABASE_URL: databaseUrl,
    WHOP_API_KEY: secrets.apiKey,
    WHOP_APP_ID: secrets.appId,
    ENCRYPTION_KEYS: `k1:${key}`,
    LINK_SIGNING_KEY: hex,
    DASHBOARD_URL: "http://127.0.0.1:8000",
    // Unused here (each run names its sandbox), but dispatchEnv reads it.
    WHOP_SANDBOX_URL: "http://sandbox.invalid",
  }).forEach(([name, value]) => Deno.env.set(name, value));
}

async function runOurs(sql: postgres.Sql, sandbox: BenchSandbox, settings: Settings, window: RunWindow) {
  const companyId = `biz_benchdispatch${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
  const ids = await makeDueJobs(sql, companyId, "push", settings.jobs, new Date(Date.now() - 60_000));
  try {
    window.start();
    const dispatcher = () =>
      withDispatchApp(async (dispatch) => {
        // Each round is bounded; a dispatcher keeps going until nothing is due.
        for (;;) {
          const counts = await dispatch();
          if (counts.claimed === 0) break;
        }
      }, {
        WHOP_API_BASE_URL: sandbox.apiBase,
        WHOP_TIMEOUT_MS: String(WHOP_TIMEOUT_MS),
        DISPATCH_BATCH_SIZE: String(settings.batch),
        DISPATCH_CONCURRENCY: String(settings.concurrency),
      }, { whopFetch: sandbox.fetch });
    await Promise.all(Array.from({ length: settings.dispatchers }, dispatcher));
    window.stop();
    const [left] = await sql`select count(*)::int as n from public.job_queue
                             where company_id = ${companyId} and status <> 'sent'`;
    if (left.n > 0) throw new Error(`our dispatcher left ${left.n} jobs unsent`);
  } finally {
    await sql`delete from public.companies where company_id = ${companyId}`;
  }
  return { keys: new Set(ids.map((id) => `job:${id}`)) };
}

async function runTheirs(
  url: string,
  sql: postgres.Sql,
  sandbox: BenchSandbox,
  settings: Settings,
  secrets: { apiKey: string; appId: string },
  window: RunWindow,
  preset?: ReturnType<typeof batchedPreset>,
) {
  const run = crypto.randomUUID().slice(0, 8);
  const payloads: PushPayload[] = Array.from({ length: settings.jobs }, (_, n) => ({
    key: `gw:${run}:${n}`,
    experience_id: "exp_test",
    user_id: `user_${run}_${n}`,
    title: "Your payment didn't go through",
    content:
      "Hi Sam, your renewal of Pro didn't go through. Update your payment method to keep your access: " +
      `http://127.0.0.1:8000/r/${"x".repeat(120)}`,
    rest_path: `recover/${crypto.randomUUID()}`,
  }));
  await addPushJobs(sql, payloads);
  await runGraphile(url, sql, {
    runners: settings.dispatchers,
    concurrency: settings.concurrency,
    jobs: settings.jobs,
    whop: { ...secrets, apiBase: sandbox.apiBase, fetch: sandbox.fetch, timeoutMs: WHOP_TIMEOUT_MS },
    preset,
    window,
  });
  return { keys: new Set(payloads.map((p) => p.key)) };
}

function report(results: RunResult[], settings: Settings) {
  const rate = (r: RunResult) => settings.jobs / r.seconds;
  console.log(
    `\n${settings.jobs} jobs per run; ${settings.dispatchers} workers × ${settings.concurrency} in flight; ` +
      `Postgres and app CPU per job (all of the cluster's processes / this process)`,
  );
  printTable(
    ["transport", "worker", "s", "jobs/s", "exactly once", "db CPU ms/job", "app CPU ms/job"],
    results.map((r) => [
      r.transport,
      r.worker,
      r.seconds.toFixed(2),
      String(Math.round(rate(r))),
      `${r.check.once}/${settings.jobs}, ${r.check.duplicates} dup, ${r.check.missing} missing`,
      (r.dbCpuMs / settings.jobs).toFixed(3),
      (r.appCpuMs / settings.jobs).toFixed(3),
    ]),
  );
  console.log("\nratios (ours / graphile-worker), same run:");
  const rows: string[][] = [];
  for (const transport of ["HTTP", "no HTTP"] as const) {
    const of = (worker: string) => results.find((r) => r.transport === transport && r.worker === worker)!;
    const ours = rate(of("ours"));
    const defaults = ours / rate(of("graphile-worker defaults"));
    const batched = ours / rate(of("graphile-worker batched"));
    rows.push([
      transport,
      `${defaults.toFixed(2)}×${
        transport === "HTTP" ? ` (target ≥ 2: ${defaults >= 2 ? "met" : "missed"})` : ""
      }`,
      `${batched.toFixed(2)}×${
        transport === "HTTP" ? ` (target ≥ 1: ${batched >= 1 ? "met" : "missed"})` : ""
      }`,
    ]);
  }
  printTable(["transport", "vs defaults", "vs batched"], rows);
}

/** Waits until no backend but this benchmark's own is connected, and the exited ones are reaped. */
async function quiet(sql: postgres.Sql) {
  for (let i = 0; i < 100; i++) {
    const [{ n }] = await sql`select count(*)::int as n from pg_stat_activity
                               where backend_type = 'client backend' and pid <> pg_backend_pid()`;
    if (n <= 1) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}

/** The timed part of one run: its wall time and the CPU the cluster and this process spent in it. */
interface RunWindow {
  start(): void;
  stop(): void;
}

function timedWindow(clusterCpu: () => number) {
  let from: { at: number; db: number; app: number } | null = null;
  let measured: { seconds: number; dbCpuMs: number; appCpuMs: number } | null = null;
  return {
    start() {
      from = { at: performance.now(), db: clusterCpu(), app: processCpuMs() };
    },
    stop() {
      if (!from) throw new Error("the run's window was stopped before it started");
      measured = {
        seconds: (performance.now() - from.at) / 1000,
        // Live backends are read directly, so what they used up to now is counted without waiting for them.
        dbCpuMs: clusterCpu() - from.db,
        appCpuMs: processCpuMs() - from.app,
      };
    },
    result() {
      if (!measured) throw new Error("the run ended without stopping its window");
      return measured;
    },
  };
}

/** CPU milliseconds of this process so far (user + system). */
function processCpuMs(): number {
  return cpuTicks(Deno.readTextFileSync("/proc/self/stat"), false) * 10;
}

/**
 * CPU milliseconds the cluster has used so far: its postmaster, the children it has reaped (their
 * time is the postmaster's cutime/cstime) and the children alive now.
 */
async function clusterCpuMs(sql: postgres.Sql): Promise<() => number> {
  const [{ pid }] = await sql`select pg_backend_pid() as pid`;
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const postmaster = Number(status.match(/^PPid:\s+(\d+)/m)![1]);
  const ticksPerMs = 0.1; // USER_HZ is 100 on Linux.
  return () => {
    let ticks = cpuTicks(Deno.readTextFileSync(`/proc/${postmaster}/stat`), true);
    const children = Deno.readTextFileSync(`/proc/${postmaster}/task/${postmaster}/children`).trim();
    for (const child of children ? children.split(/\s+/) : []) {
      try {
        ticks += cpuTicks(Deno.readTextFileSync(`/proc/${child}/stat`), false);
      } catch {
        // Gone since the list was read: its time is in the postmaster's cutime now (or soon).
      }
    }
    return ticks / ticksPerMs;
  };
}

/** utime + stime (and, for a parent, its reaped children's) from a /proc/<pid>/stat line. */
function cpuTicks(stat: string, withChildren: boolean): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based).
  const at = (n: number) => Number(fields[n - 3]);
  return at(14) + at(15) + (withChildren ? at(16) + at(17) : 0);
}
