// Ops endpoints under a big dataset: one company with N cases (the dashboard benchmark's seed: ~7 jobs
// per case, clicks), then server time of each health endpoint, /api/metrics and /api/alerts, measured
// in-process one request at a time after a warm-up. Every endpoint must stay well inside its ~2 s
// bound (its reads run under OPS_QUERY_TIMEOUT_MS, 1500 ms). Needs the database of a running stack:
// the environment, or .local/stack.env (scripts/dev.sh) when DATABASE_URL is not set.
//
//   deno task bench ops [--cases 100000] [--requests 100]
import { createApp } from "../../web/app.ts";
import { connectAsOwner, dashboardEnv } from "../support/stack.ts";
import { fmt, loadStackEnv, printTable, seed } from "./dashboard.ts";
import { numberOption } from "./options.ts";

const WARM_UP = 10;
const PATHS = [
  "/api/health",
  "/api/health/db",
  "/api/health/webhooks",
  "/api/scheduler/reminders",
  "/api/metrics",
  "/api/alerts",
];

export async function opsBench(args: string[]) {
  const caseCount = numberOption(args, "cases", 100_000);
  const requests = numberOption(args, "requests", 100);
  await loadStackEnv();

  const sql = connectAsOwner();
  const companyId = `biz_bench${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const { app, close } = await createApp(dashboardEnv());
  const token = Deno.env.get("OPS_TOKEN")!;
  try {
    console.log(`ops: seeding ${companyId} with ${caseCount.toLocaleString("en-US")} cases ...`);
    const seeded = await seed(sql, companyId, caseCount);
    console.log(
      `  ${seeded.cases.toLocaleString("en-US")} cases, ${seeded.jobs.toLocaleString("en-US")} jobs in ` +
        `${seeded.seconds.toFixed(1)} s`,
    );
    const get = async (path: string) => {
      const response = await app.fetch(
        new Request(`http://dashboard${path}`, { headers: { authorization: `Bearer ${token}` } }),
      );
      const body = await response.text();
      return { status: response.status, bytes: body.length };
    };
    const rows: string[][] = [];
    for (const path of PATHS) {
      const first = await get(path);
      for (let i = 0; i < WARM_UP; i++) await get(path);
      const times: number[] = [];
      for (let i = 0; i < requests; i++) {
        const started = performance.now();
        await get(path);
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
      rows.push([
        path,
        String(first.status),
        fmt(at(0.5)),
        fmt(at(0.95)),
        fmt(times.at(-1)!),
        `${first.bytes} B`,
      ]);
    }
    console.log(`\nserver time, ${requests} requests after ${WARM_UP} warm-up, one at a time`);
    printTable(["endpoint", "status", "p50 (ms)", "p95 (ms)", "max (ms)", "answer"], rows);
  } finally {
    await sql`delete from public.companies where company_id = ${companyId}`;
    await close();
    await sql.end();
  }
}
