// Load drivers for tests: the open-loop paced sender (scripts/lib/paced_load.ts, shared with
// `deno task rollout load-test`), a cheap pipelined flood over raw keep-alive connections, and a cheap
// closed loop over the same connections.
export { epochNow, paced, type PacedResult, percentile, type Sample } from "../../scripts/lib/paced_load.ts";

export interface FloodOptions {
  /** http://host:port/path */
  url: string;
  count: number;
  ratePerSecond: number;
  /** Keep-alive connections the requests are spread over. */
  connections: number;
  /** Unanswered requests per connection before sending waits. */
  pipelineDepth: number;
  /** The head of request `index` (request line and headers, no blank line) and its body. */
  request: (index: number) => { head: string; body: Uint8Array };
}

export interface FloodResult {
  statuses: Map<number, number>;
  /** Per request, from its first write to its answer (ms), in the order answered. */
  latenciesMs: number[];
  elapsedMs: number;
  /** Connections the server closed (after refusing a request whose body it did not read, say). */
  reconnects: number;
}

/** A cheap flood: HTTP/1.1 requests pipelined over a few raw keep-alive connections, at a fixed rate.
 * fetch costs the client (and, with one connection per request in flight, the server) several times
 * more per request; on a two-core machine that client work would compete with the server under test.
 * A connection the server closes is opened again and its unanswered requests sent again, as any
 * client would. Answers must carry content-length (Deno.serve sends it for fixed bodies). */
export async function rawHttpFlood(options: FloodOptions): Promise<FloodResult> {
  const run = await openLanes(options.url, options.connections);
  const { target, lanes, started } = run;
  const frame = (i: number) => requestFrame(target, options.request(i));
  try {
    let sent = 0;
    while (sent < options.count) {
      // Whatever is due goes out together, one write per connection every TICK_MS: one wakeup per
      // tick instead of one per request, here and in the server (each costs more than a small request).
      const due = Math.min(
        options.count,
        Math.floor(((performance.now() - started) * options.ratePerSecond) / 1000) + 1,
      );
      await Promise.all(lanes.map(async (lane, l) => {
        const frames: Uint8Array[] = [];
        for (let i = sent + l; i < due; i += lanes.length) frames.push(frame(i));
        if (frames.length === 0) return;
        await lane.until(() =>
          lane.unanswered.length + frames.length <= Math.max(options.pipelineDepth, frames.length)
        );
        await lane.send(frames);
      }));
      sent = due;
      if (sent < options.count) await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    for (const lane of lanes) await lane.until(() => lane.unanswered.length === 0);
  } finally {
    await run.close();
  }
  return run.result();
}

/** Closed loop over raw keep-alive connections: `inFlight` connections, each with one request out at a
 * time, the next written as soon as the answer is read. For benchmarks that measure a server on the
 * machine that also runs the sender: fetch would cost the sender ~0.3 ms of CPU per request, taken
 * from the server under test on a two-core machine; this costs a small fraction of that. */
export async function rawHttpClosedLoop(options: {
  url: string;
  count: number;
  inFlight: number;
  request: (index: number) => { head: string; body: Uint8Array };
}): Promise<FloodResult> {
  const run = await openLanes(options.url, Math.min(options.inFlight, options.count));
  const { target, lanes } = run;
  let next = 0;
  try {
    await Promise.all(lanes.map(async (lane) => {
      for (let i = next++; i < options.count; i = next++) {
        const frame = requestFrame(target, options.request(i));
        await lane.send([frame]);
        await lane.until(() => lane.unanswered.length === 0);
      }
    }));
  } finally {
    await run.close();
  }
  return run.result();
}

/** `count` keep-alive connections to `url`, the tally their answers go to, and the clock. */
async function openLanes(url: string, count: number) {
  const target = new URL(url);
  const statuses = new Map<number, number>();
  const latenciesMs: number[] = [];
  const answered = (status: number, latencyMs: number) => {
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    latenciesMs.push(latencyMs);
  };
  const lanes = await Promise.all(Array.from({ length: count }, () => FloodLane.open(target, answered)));
  const started = performance.now();
  return {
    target,
    lanes,
    started,
    close: () => Promise.all(lanes.map((lane) => lane.close())),
    result: (): FloodResult => ({
      statuses,
      latenciesMs,
      elapsedMs: performance.now() - started,
      reconnects: lanes.reduce((sum, lane) => sum + lane.reconnects, 0),
    }),
  };
}

const frameEncoder = new TextEncoder();

/** The bytes of one request: its head, then host and content-length, then the body. */
function requestFrame(target: URL, { head, body }: { head: string; body: Uint8Array }): Uint8Array {
  const headBytes = frameEncoder.encode(
    `${head}\r\nhost: ${target.host}\r\ncontent-length: ${body.byteLength}\r\n\r\n`,
  );
  return concat([headBytes, body]);
}

const TICK_MS = 10;
const MAX_RECONNECTS = 10_000;

/** One keep-alive connection of the flood and the requests written to it but not yet answered. */
class FloodLane {
  unanswered: Uint8Array[] = [];
  /** When each unanswered request was first written (ms, performance.now), in the same order. */
  writtenAt: number[] = [];
  reconnects = 0;
  #conn!: Deno.Conn;
  #reading: Promise<void> = Promise.resolve();
  #failure: Error | null = null;
  #wake: (() => void) | null = null;
  #closing = false;

  private constructor(
    private readonly target: URL,
    private readonly answered: (status: number, latencyMs: number) => void,
  ) {}

  static async open(target: URL, answered: (status: number, latencyMs: number) => void): Promise<FloodLane> {
    const lane = new FloodLane(target, answered);
    await lane.#connect();
    return lane;
  }

  /** Queues `frames` and writes them; with none, writes what is unanswered again (after a reconnect). */
  async send(frames: Uint8Array[]) {
    this.unanswered.push(...frames);
    const now = performance.now();
    for (let i = 0; i < frames.length; i++) this.writtenAt.push(now);
    try {
      await writeAll(this.#conn, concat(frames.length > 0 ? frames : this.unanswered));
    } catch {
      // The server closed the connection: the reader reconnects and sends the unanswered again.
    }
  }

  async until(done: () => boolean) {
    while (!done()) {
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  async close() {
    this.#closing = true;
    // A reconnect in progress replaces the reader: close until the one awaited is the last.
    for (;;) {
      const reading = this.#reading;
      try {
        this.#conn.close();
      } catch {
        // Already closed.
      }
      await reading;
      if (reading === this.#reading) return;
    }
  }

  async #connect() {
    this.#conn = await Deno.connect({ hostname: this.target.hostname, port: Number(this.target.port) });
    const conn = this.#conn;
    this.#reading = readResponses(conn, (status) => {
      this.unanswered.shift();
      this.answered(status, performance.now() - (this.writtenAt.shift() ?? Number.NaN));
      this.#wake?.();
    }).then(async () => {
      if (this.#closing) return;
      conn.close();
      if (++this.reconnects > MAX_RECONNECTS) throw new Error("the server keeps closing flood connections");
      await this.#connect();
      if (this.unanswered.length > 0) await this.send([]);
    }).catch((error) => {
      if (this.#closing) return;
      this.#failure = error;
      this.#wake?.();
    });
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array) {
  for (let written = 0; written < bytes.byteLength;) written += await conn.write(bytes.subarray(written));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}

/** Reads pipelined HTTP/1.1 answers off `conn`, calling `answered` with each status code, until the
 * connection ends (either side). Decoded as windows-1252, one character per byte, so content-length
 * counts characters and the native string search finds each header end. */
async function readResponses(conn: Deno.Conn, answered: (status: number) => void): Promise<void> {
  const decoder = new TextDecoder("windows-1252");
  const chunk = new Uint8Array(64 * 1024);
  let text = "";
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(chunk);
    } catch {
      return; // closed (by us, or reset)
    }
    if (n === null) return;
    text += decoder.decode(chunk.subarray(0, n));
    let offset = 0;
    for (;;) {
      const end = text.indexOf("\r\n\r\n", offset);
      if (end < 0) break;
      const head = text.slice(offset, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? Number.NaN);
      if (!Number.isFinite(length)) throw new Error(`an answer without content-length: ${head}`);
      if (text.length < end + 4 + length) break;
      answered(Number(head.slice(9, 12)));
      offset = end + 4 + length;
    }
    text = text.slice(offset);
  }
}
