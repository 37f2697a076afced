// A Web Worker that floods the webhook endpoint with forged requests (no signature, or a random one)
// claiming random x-forwarded-for and cf-connecting-ip addresses, at a fixed rate, in the time
// windows it is given (load_driver.ts, rawHttpFlood). It runs on its own thread, so the test's
// latency measurements of the signed traffic are not delayed by the flood's client work.
// Message in: FloodOrder; message out: FloodReport.
/// <reference lib="deno.worker" />
import { epochNow, rawHttpFlood } from "./load_driver.ts";
import { toBase64 } from "../../supabase/functions/_shared/whop/webhook_signature.ts";

export interface FloodOrder {
  url: string;
  /** Epoch milliseconds at which each window starts, and how many requests it sends. */
  windows: { startAt: number; count: number }[];
  ratePerSecond: number;
  connections: number;
  pipelineDepth: number;
  /** A forged event; none of them may be stored. */
  body: string;
}

export interface FloodReport {
  statuses: [number, number][];
  /** When each window actually started and got its last answer (epoch milliseconds). */
  windows: { from: number; to: number }[];
  /** Connections the server closed (and the flood opened again). */
  reconnects: number;
}

const octet = () => Math.floor(Math.random() * 256);
const randomAddress = () => `${octet()}.${octet()}.${octet()}.${octet()}`;
// The address the limiter keys on (cf-connecting-ip) is new for every request, not just random: a
// random repeat of an address already tracked in the window (~4% of runs over 32 bits) would be one
// more 401 than the bound the test asserts.
const firstAddress = Math.floor(Math.random() * 2 ** 32);
const address = (i: number) => {
  const n = (firstAddress + i) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
};

self.onmessage = async (message: MessageEvent<FloodOrder>) => {
  const { url, ratePerSecond, connections, pipelineDepth } = message.data;
  const body = new TextEncoder().encode(message.data.body);
  const path = new URL(url).pathname;
  const statuses = new Map<number, number>();
  const windows: FloodReport["windows"] = [];
  let sent = 0;
  let reconnects = 0;
  for (const window of message.data.windows) {
    const wait = window.startAt - epochNow();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const from = epochNow();
    const result = await rawHttpFlood({
      url,
      count: window.count,
      ratePerSecond,
      connections,
      pipelineDepth,
      request: () => {
        const i = sent++;
        let head = `POST ${path} HTTP/1.1\r\ncontent-type: application/json\r\n` +
          `x-forwarded-for: ${randomAddress()}, ${randomAddress()}\r\ncf-connecting-ip: ${address(i)}`;
        if (i % 2 === 1) {
          // Looks signed, verifies nothing.
          head += `\r\nwebhook-id: msg_forged${i}\r\nwebhook-timestamp: ${Math.floor(Date.now() / 1000)}` +
            `\r\nwebhook-signature: v1,${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
        }
        return { head, body };
      },
    });
    windows.push({ from, to: epochNow() });
    reconnects += result.reconnects;
    for (const [status, n] of result.statuses) statuses.set(status, (statuses.get(status) ?? 0) + n);
  }
  const report: FloodReport = { statuses: [...statuses], windows, reconnects };
  self.postMessage(report);
};
