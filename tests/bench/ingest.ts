// Webhook ingest at the database's limit, side by side in one run on one database (issue 12 item 1):
// - the ceiling: pgbench single-row `insert … on conflict do nothing`, new rows and all conflicts;
// - the ingest SQL alone: pgbench calling public.ingest_webhook_event as store_event.ts does, with the
//   function's own rows: a renewal failure opening a case, a duplicate, a success closing a case, an
//   unknown type;
// - end to end: pre-signed v1 renewal failures for new memberships of 50 companies at 1, 8, 32, 64
//   in flight, through the stack's functions gateway and straight to the function's own server
//   (webhook_function_server.ts), and to a peer beside it (ingest_peer_server.ts: the least a Deno
//   server on postgres.js does per delivery, one insert, the floor under the function's CPU); all
//   duplicates at 32; open loop at half the maximum;
// - the function's CPU and RSS per webhook, and a CPU profile's top self-time frames;
// - with --stored: the SQL rows and the function at 32 in flight again over 1,000,000 stored events
//   and 300,000 cases, to show how cost grows.
// Processing is on (the case engine runs in the ingest transaction); the scheduler is held off so the
// dispatcher does not send the new cases' nudges meanwhile. Everything the run stores is removed
// (its companies cascade), and the flags are put back. Needs a running stack (scripts/dev.sh).
//
//   deno task bench ingest [--quick] [--stored] [--seconds 10] [--clients 8] [--webhooks 2000]
//                          [--stored-events 1000000] [--stored-cases 300000]
import { saveFlags } from "../support/ops.ts";
import { connectAsOwner } from "../support/stack.ts";
import { setFlags, startServerProcess, startWebhookFunction } from "../support/webhooks.ts";
import { loadStackEnv, printTable } from "./dashboard.ts";
import { type Delivery, drive, failureDeliveries, type HttpRun, resigned } from "./ingest_http.ts";
import { listeningPid, postmasterOf, selfTimeByOrigin, topSelfFrames } from "./ingest_measure.ts";
import {
  type BenchCompanies,
  createCompanies,
  createScratch,
  dropScratch,
  type PgbenchResult,
  seedStored,
  settle,
  sqlOutcome,
  type SqlRows,
  sqlRows,
} from "./ingest_sql.ts";
import { numberOption } from "./options.ts";

const IN_FLIGHT = [1, 8, 32, 64];
const WARM_UP = 200;

export async function ingestBench(args: string[]) {
  const quick = args.includes("--quick");
  const stored = args.includes("--stored");
  const seconds = numberOption(args, "seconds", quick ? 2 : 10);
  const clients = numberOption(args, "clients", 8);
  const webhooks = numberOption(args, "webhooks", quick ? 200 : 2000);
  const storedEvents = numberOption(args, "stored-events", quick ? 20_000 : 1_000_000);
  const storedCases = numberOption(args, "stored-cases", quick ? 6_000 : 300_000);
  await loadStackEnv();
  const url = Deno.env.get("DATABASE_URL")!;
  const functionsUrl = Deno.env.get("FUNCTIONS_URL");
  if (!functionsUrl) {
    throw new Error("FUNCTIONS_URL is not set: start scripts/dev.sh (it writes .local/stack.env)");
  }
  const gatewayUrl = `${functionsUrl}/whop-webhook`;
  const gatewayPid = await listeningPid(Number(new URL(functionsUrl).port));
  if (gatewayPid === null) throw new Error(`nothing listens at ${functionsUrl}: is the stack running?`);

  const sql = connectAsOwner();
  const [{ pid }] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const postmasterPid = postmasterOf(pid);
  const restoreFlags = await saveFlags(sql);
  const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 8);
  let companies: BenchCompanies | null = null;
  const servers: { stop(): Promise<void> }[] = [];
  const profileDir = await Deno.makeTempDir({ prefix: "ingest-bench-profile-" });
  try {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false, SCHEDULER_ENABLED: false });
    companies = await createCompanies(sql, tag);
    const templates = await createScratch(sql, companies);
    const direct = await startWebhookFunction();
    servers.push(direct);
    const peer = await startServerProcess(new URL("./ingest_peer_server.ts", import.meta.url));
    servers.push(peer);
    const pgbase = { url, clients, seconds, postmasterPid };
    console.log(
      `ingest: run ${tag}, ${companies.ids.length} companies, pgbench ${clients} clients x ${seconds} s, ` +
        `${webhooks} webhooks per HTTP run`,
    );

    // 1. The database alone.
    await settle(sql);
    const empty = await sqlRows(sql, pgbase, templates, "empty database");
    const afterSql = await sqlOutcome(sql, companies);

    // 2. End to end, both ways in.
    const targets = [
      { name: "gateway", url: gatewayUrl, pid: gatewayPid },
      { name: "function", url: direct.url, pid: direct.pid },
      { name: "peer", url: peer.url, pid: peer.pid },
    ];
    let label = 0;
    const next = () => `h${label++}_`;
    const http: { target: string; mode: string; inFlight: number; run: HttpRun }[] = [];
    const send = async (
      target: (typeof targets)[number],
      mode: string,
      inFlight: number,
      deliveries: Delivery[],
      ratePerSecond?: number,
    ) => {
      console.log(`  end to end: ${target.name}, ${mode}, ${inFlight} in flight ...`);
      const run = await drive({
        url: target.url,
        deliveries,
        inFlight,
        ratePerSecond,
        serverPid: target.pid,
        postmasterPid,
      });
      http.push({ target: target.name, mode, inFlight, run });
      return run;
    };
    const maxByTarget = new Map<string, number>();
    for (const target of targets) {
      await drive({
        url: target.url,
        deliveries: await failureDeliveries(companies, next(), WARM_UP),
        inFlight: 8,
        serverPid: target.pid,
        postmasterPid,
      });
      let replay: Delivery[] = [];
      for (const inFlight of IN_FLIGHT) {
        const count = inFlight === 1 ? Math.max(50, Math.floor(webhooks / 4)) : webhooks;
        const deliveries = await failureDeliveries(companies, next(), count);
        const run = await send(target, "new failures", inFlight, deliveries);
        maxByTarget.set(target.name, Math.max(maxByTarget.get(target.name) ?? 0, run.perSecond));
        if (inFlight === 32) replay = deliveries;
      }
      await send(target, "all duplicates", 32, await resigned(replay));
    }
    // p99 at half the maximum, open loop (the schedule does not wait for answers).
    const halfRate: Record<string, number> = {};
    for (const target of targets) {
      const rate = Math.max(1, Math.floor(maxByTarget.get(target.name)! / 2));
      halfRate[target.name] = rate;
      const count = Math.max(100, Math.min(webhooks * 2, rate * (quick ? 3 : 10)));
      await send(target, `open loop ${rate}/s`, 64, await failureDeliveries(companies, next(), count), rate);
    }
    const afterHttp = await sqlOutcome(sql, companies);

    // 3. Where the function's CPU goes: the same server under deno --cpu-prof.
    console.log("  CPU profile of the function server ...");
    const profiled = await startWebhookFunction({}, ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]);
    servers.push(profiled);
    await drive({
      url: profiled.url,
      deliveries: await failureDeliveries(companies, next(), WARM_UP),
      inFlight: 8,
      serverPid: profiled.pid,
      postmasterPid,
    });
    const profiledRun = await drive({
      url: profiled.url,
      deliveries: await failureDeliveries(companies, next(), webhooks),
      inFlight: 32,
      serverPid: profiled.pid,
      postmasterPid,
    });
    await profiled.stop();
    servers.pop();
    const profileFile = [...Deno.readDirSync(profileDir)].find((e) => e.name.endsWith(".cpuprofile"));
    if (!profileFile) throw new Error(`deno --cpu-prof wrote no profile into ${profileDir}`);
    const profile = JSON.parse(await Deno.readTextFile(`${profileDir}/${profileFile.name}`));

    // 4. The same with a big database.
    let storedRows: SqlRows | null = null;
    let storedHttp: HttpRun | null = null;
    let emptyHttp32: HttpRun | null = null;
    if (stored) {
      console.log(
        `stored: ${storedEvents.toLocaleString("en-US")} events, ${
          storedCases.toLocaleString("en-US")
        } cases ...`,
      );
      const seeded = await seedStored(sql, companies, storedEvents, storedCases);
      console.log(`  seeded in ${seeded.seconds.toFixed(1)} s`);
      storedRows = await sqlRows(sql, pgbase, templates, "stored");
      const fn = targets[1];
      emptyHttp32 = http.find((h) =>
        h.target === fn.name && h.mode === "new failures" && h.inFlight === 32
      )!.run;
      storedHttp = await send(
        fn,
        "new failures, stored",
        32,
        await failureDeliveries(companies, next(), webhooks),
      );
    }

    report({
      clients,
      seconds,
      empty,
      stored: storedRows,
      afterSql,
      afterHttp,
      http,
      halfRate,
      profile,
      profiledRun,
      storedEvents,
      storedCases,
      storedHttp,
      emptyHttp32,
    });
  } finally {
    for (const server of servers) await server.stop();
    console.log("ingest: removing the run's companies, events and cases ...");
    if (companies) await sql`delete from public.companies where company_id = any(${companies.ids})`;
    await dropScratch(sql);
    await restoreFlags();
    await sql.end();
    await Deno.remove(profileDir, { recursive: true });
  }
}

const f0 = (n: number) => Math.round(n).toLocaleString("en-US");
const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

function report(r: {
  clients: number;
  seconds: number;
  empty: SqlRows;
  stored: SqlRows | null;
  afterSql: { open: number; recovered: number; events: number; jobs: number };
  afterHttp: { open: number; recovered: number; events: number; jobs: number };
  http: { target: string; mode: string; inFlight: number; run: HttpRun }[];
  halfRate: Record<string, number>;
  profile: Parameters<typeof topSelfFrames>[0];
  profiledRun: HttpRun;
  storedEvents: number;
  storedCases: number;
  storedHttp: HttpRun | null;
  emptyHttp32: HttpRun | null;
}) {
  const e = r.empty;
  console.log(`\nSQL alone: pgbench, ${r.clients} clients, ${r.seconds} s each, -M extended`);
  const sqlRow = (name: string, row: PgbenchResult, ceiling: PgbenchResult | null, target: string) => [
    name,
    f0(row.tps),
    ceiling ? ratio(row.tps, ceiling.tps) : "",
    f2(row.latencyMs),
    f2(row.dbCpuMs),
    String(row.failed),
    target,
  ];
  printTable(["row", "per s", "x ceiling", "latency (ms)", "DB CPU (ms)", "errors", "target"], [
    sqlRow("ceiling: insert, new row", e.ceilingNew, null, ""),
    sqlRow("ceiling: insert, conflict", e.ceilingConflict, null, ""),
    sqlRow("ingest: new failure, opens a case", e.failed, e.ceilingNew, ">= 0.3x"),
    sqlRow("ingest: duplicate", e.duplicate, e.ceilingConflict, ">= 0.5x"),
    sqlRow("ingest: success, closes a case", e.succeeded, e.ceilingNew, ""),
    sqlRow("ingest: unknown type", e.unknown, e.ceilingNew, ""),
  ]);
  console.log(
    `  check: ${f0(r.afterSql.open)} cases open, ${f0(r.afterSql.recovered)} recovered, ` +
      `${f0(r.afterSql.jobs)} jobs, ${f0(r.afterSql.events)} events after the SQL rows`,
  );

  console.log("\nEnd to end: pre-signed v1 payment.failed, new memberships of 50 companies");
  const sqlFailed = e.failed.tps;
  printTable(
    [
      "path",
      "deliveries",
      "in flight",
      "per s",
      "p50 (ms)",
      "p95 (ms)",
      "p99 (ms)",
      "errors",
      "x SQL alone",
      "server CPU (ms)",
      "DB CPU (ms)",
      "sender CPU (ms)",
      "RSS (MB)",
    ],
    r.http.map(({ target, mode, inFlight, run }) => [
      target,
      mode,
      String(inFlight),
      f0(run.perSecond),
      f1(run.p50),
      f1(run.p95),
      f1(run.p99),
      String(run.errors),
      ratio(run.perSecond, mode.includes("duplicates") ? e.duplicate.tps : sqlFailed),
      f2(run.serverCpuMs),
      f2(run.dbCpuMs),
      f2(run.clientCpuMs),
      f0(run.rssMb),
    ]),
  );
  console.log(
    `  check: ${f0(r.afterHttp.open - r.afterSql.open)} more cases open after the HTTP runs ` +
      `(one per new failure; duplicates open none)`,
  );

  const { frames, busyMs } = topSelfFrames(r.profile, 15);
  console.log(
    `\nFunction CPU profile (deno --cpu-prof, 32 in flight, ${f0(r.profiledRun.perSecond)}/s, ` +
      `${f2(r.profiledRun.serverCpuMs)} ms CPU per webhook under the profiler; ${
        f0(busyMs)
      } ms busy sampled)`,
  );
  printTable(
    ["self time: frame", "share"],
    frames.map((frame) => [frame.frame, `${(frame.share * 100).toFixed(1)}%`]),
  );
  printTable(
    ["self time: origin", "share"],
    selfTimeByOrigin(r.profile).slice(0, 12).map((o) => [o.origin, `${(o.share * 100).toFixed(1)}%`]),
  );

  if (r.stored && r.storedHttp && r.emptyHttp32) {
    const s = r.stored;
    console.log(
      `\nStored: ${f0(r.storedEvents)} events and ${f0(r.storedCases)} cases already in the run's companies`,
    );
    const row = (
      name: string,
      empty: number,
      stored: number,
    ) => [name, f0(empty), f0(stored), ratio(stored, empty)];
    printTable(["row", "empty (per s)", "stored (per s)", "stored / empty"], [
      row("ceiling: insert, new row", e.ceilingNew.tps, s.ceilingNew.tps),
      row("ingest: new failure, opens a case", e.failed.tps, s.failed.tps),
      row("ingest: duplicate", e.duplicate.tps, s.duplicate.tps),
      row("ingest: success, closes a case", e.succeeded.tps, s.succeeded.tps),
      row("ingest: unknown type", e.unknown.tps, s.unknown.tps),
      row("end to end: function, 32 in flight", r.emptyHttp32.perSecond, r.storedHttp.perSecond),
    ]);
  }

  // The targets, from the figures above.
  const fn = r.http.filter((h) => h.target === "function");
  const maxFn = Math.max(...fn.filter((h) => h.mode === "new failures").map((h) => h.run.perSecond));
  const half = fn.find((h) => h.mode.startsWith("open loop"))!.run;
  const loaded = fn.filter((h) => h.mode === "new failures" && h.inFlight >= 8);
  const fnCpu = Math.min(...loaded.map((h) => h.run.serverCpuMs));
  const rss = Math.max(...fn.map((h) => h.run.rssMb));
  const peerCpu = Math.min(
    ...r.http.filter((h) => h.target === "peer" && h.mode === "new failures" && h.inFlight >= 8)
      .map((h) => h.run.serverCpuMs),
  );
  const rows: string[][] = [
    target(
      "ingest SQL, new failure / insert ceiling",
      e.failed.tps / e.ceilingNew.tps,
      ">= 0.30",
      (v) => v >= 0.3,
    ),
    target(
      "ingest SQL, duplicate / conflict ceiling",
      e.duplicate.tps / e.ceilingConflict.tps,
      ">= 0.50",
      (v) => v >= 0.5,
    ),
    target("end to end (function, best) / ingest SQL", maxFn / e.failed.tps, ">= 0.60", (v) => v >= 0.6),
    target(`p99 at half the maximum (${r.halfRate.function}/s), ms`, half.p99, "<= 50", (v) => v <= 50),
    target("function CPU per webhook (8+ in flight, best), ms", fnCpu, "<= 0.50", (v) => v <= 0.5),
    target("function RSS under load, MB", rss, "<= 150", (v) => v <= 150),
    ["peer's CPU per delivery (8+ in flight, best), ms: the floor", f2(peerCpu), "", ""],
    ["function CPU / peer's", f2(fnCpu / peerCpu), "", ""],
  ];
  if (r.stored && r.storedHttp && r.emptyHttp32) {
    rows.push(
      target(
        "stored / empty, ingest SQL new failure",
        r.stored.failed.tps / e.failed.tps,
        ">= 0.80",
        (v) => v >= 0.8,
      ),
      target(
        "stored / empty, end to end 32 in flight",
        r.storedHttp.perSecond / r.emptyHttp32.perSecond,
        ">= 0.80",
        (v) => v >= 0.8,
      ),
    );
  }
  console.log("\nTargets (issue 12)");
  printTable(["figure", "measured", "target", "met"], rows);
}

function target(name: string, value: number, wanted: string, met: (v: number) => boolean): string[] {
  return [name, f2(value), wanted, met(value) ? "yes" : "NO"];
}
