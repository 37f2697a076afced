// The HTTP half of the ingest benchmark: pre-signed v1 deliveries (as webhook_load_test.ts builds
// them: the sandbox's payloads, signStandardWebhook) sent with a bounded number in flight, and what
// each run cost the processes that served it.
import { signStandardWebhook } from "../../supabase/functions/_shared/whop/webhook_signature.ts";
import { paymentEvent } from "../../whop-sandbox/payloads.ts";
import { paced, percentile, rawHttpClosedLoop } from "../support/load_driver.ts";
import { webhookSecret } from "../support/webhooks.ts";
import { clusterCpuSeconds, processCpuSeconds, processRssMb } from "./ingest_measure.ts";
import type { BenchCompanies } from "./ingest_sql.ts";

export interface Delivery {
  body: string;
  headers: Headers;
}

/** `count` renewal failures for memberships never seen, spread over the run's companies; signed now
 * (deliveries must be sent within Whop's 300 s tolerance). */
export async function failureDeliveries(
  companies: BenchCompanies,
  label: string,
  count: number,
): Promise<Delivery[]> {
  const secret = webhookSecret();
  const timestamp = Math.floor(Date.now() / 1000);
  const deliveries: Delivery[] = [];
  for (let i = 0; i < count; i++) {
    const event = paymentEvent("payment.failed", {
      companyId: companies.ids[i % companies.ids.length],
      membershipId: `mem_${companies.tag}${label}${i}`,
      userId: `user_${companies.tag}${label}${i}`,
      amount: 29.99,
    });
    deliveries.push(await sign(event.id, JSON.stringify(event), secret, timestamp));
  }
  return deliveries;
}

/** The same deliveries signed again now (a redelivery carries the same webhook-id and body). */
export function resigned(deliveries: Delivery[]): Promise<Delivery[]> {
  const secret = webhookSecret();
  const timestamp = Math.floor(Date.now() / 1000);
  return Promise.all(deliveries.map((d) => sign(d.headers.get("webhook-id")!, d.body, secret, timestamp)));
}

async function sign(id: string, body: string, secret: string, timestamp: number): Promise<Delivery> {
  return {
    body,
    headers: new Headers({
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": await signStandardWebhook({ secret, id, timestamp, body }),
    }),
  };
}

export interface HttpRun {
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  /** CPU of the serving process per delivery (ms), and of the database cluster. */
  serverCpuMs: number;
  dbCpuMs: number;
  /** CPU of this process (the senders) per delivery (ms). */
  clientCpuMs: number;
  rssMb: number;
}

/** Sends every delivery to `url` with at most `inFlight` outstanding: closed loop at the server's
 * pace over raw keep-alive connections, or open loop at `ratePerSecond` through fetch when given.
 * `serverPid` is the process that serves it. */
export async function drive(options: {
  url: string;
  deliveries: Delivery[];
  inFlight: number;
  ratePerSecond?: number;
  serverPid: number;
  postmasterPid: number;
}): Promise<HttpRun> {
  const { deliveries } = options;
  const serverBefore = processCpuSeconds(options.serverPid);
  const dbBefore = clusterCpuSeconds(options.postmasterPid);
  const clientBefore = processCpuSeconds(Deno.pid);
  let rssMb = processRssMb(options.serverPid).now;
  const sampler = setInterval(() => {
    rssMb = Math.max(rssMb, processRssMb(options.serverPid).now);
  }, 100);
  const result = options.ratePerSecond === undefined
    // Closed loop at the server's pace, from a sender that costs it little CPU (rawHttpClosedLoop).
    ? await rawHttpClosedLoop({
      url: options.url,
      count: deliveries.length,
      inFlight: options.inFlight,
      request: (i) => rawRequest(options.url, deliveries[i]),
    }).finally(() => clearInterval(sampler))
    // Open loop on a schedule that does not wait for answers (paced), through fetch.
    : await paced(
      deliveries.length,
      options.ratePerSecond,
      options.inFlight,
      (i) => fetch(options.url, { method: "POST", headers: deliveries[i].headers, body: deliveries[i].body }),
    ).then((run) => ({ ...run, latenciesMs: run.samples.map((s) => s.latencyMs) }))
      .finally(() => clearInterval(sampler));
  rssMb = Math.max(rssMb, processRssMb(options.serverPid).now);
  const n = deliveries.length;
  const perDelivery = (seconds: number) => (seconds * 1000) / n;
  const latencies = result.latenciesMs;
  return {
    perSecond: (n * 1000) / result.elapsedMs,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    errors: n - (result.statuses.get(200) ?? 0),
    serverCpuMs: perDelivery(processCpuSeconds(options.serverPid) - serverBefore),
    dbCpuMs: perDelivery(clusterCpuSeconds(options.postmasterPid) - dbBefore),
    clientCpuMs: perDelivery(processCpuSeconds(Deno.pid) - clientBefore),
    rssMb,
  };
}

const bodyEncoder = new TextEncoder();

/** A delivery as the raw HTTP/1.1 request rawHttpClosedLoop writes (it adds host and content-length). */
function rawRequest(url: string, delivery: Delivery): { head: string; body: Uint8Array } {
  const lines = [`POST ${new URL(url).pathname} HTTP/1.1`];
  for (const [name, value] of delivery.headers) lines.push(`${name}: ${value}`);
  return { head: lines.join("\r\n"), body: bodyEncoder.encode(delivery.body) };
}
