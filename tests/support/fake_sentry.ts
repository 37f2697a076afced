// A local stand-in for Sentry's ingest: an HTTP server on 127.0.0.1 that keeps every envelope it
// is sent (raw bytes, arrival time), so tests can check what would have left the machine.
export interface ReceivedEnvelope {
  at: number;
  path: string;
  raw: string;
}

export interface FakeSentry {
  dsn: string;
  envelopes: ReceivedEnvelope[];
  /** The events' exception messages, parsed from the envelopes. */
  exceptionMessages(): string[];
  close(): Promise<void>;
}

/** `delayMs`: how long the ingest takes to answer (a slow Sentry). */
export function startFakeSentry(options: { delayMs?: number } = {}): FakeSentry {
  const envelopes: ReceivedEnvelope[] = [];
  const aborts = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const raw = new TextDecoder().decode(await request.arrayBuffer());
    envelopes.push({ at: Date.now(), path: new URL(request.url).pathname, raw });
    if (options.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.delayMs);
        aborts.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return Response.json({ id: crypto.randomUUID().replaceAll("-", "") });
  });
  const { port } = server.addr as Deno.NetAddr;
  return {
    dsn: `http://publickey@127.0.0.1:${port}/1`,
    envelopes,
    exceptionMessages: () =>
      envelopes.flatMap((envelope) =>
        envelope.raw.split("\n").flatMap((line) => {
          try {
            const item = JSON.parse(line);
            return (item.exception?.values ?? []).map((value: { value?: string }) => value.value ?? "");
          } catch {
            return [];
          }
        })
      ),
    close: async () => {
      aborts.abort();
      await server.shutdown();
    },
  };
}
