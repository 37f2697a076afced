// Graceful stop for long-running servers (dashboard, local gateway, sandbox) on SIGINT/SIGTERM:
// finish in-flight requests, release resources, and exit even if a client keeps a connection open.

export function stopOnSignal(
  server: Deno.HttpServer,
  release: () => Promise<unknown> = async () => {},
  graceMs = 3000,
) {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const grace = new Promise((resolve) => setTimeout(resolve, graceMs));
    await Promise.race([Promise.all([server.shutdown(), release()]), grace]);
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
