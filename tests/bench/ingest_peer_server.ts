// The peer the webhook function is measured beside (deno task bench ingest): the least a Deno webhook
// server on postgres.js can do per delivery, on the same runtime, client and pool size: read the body,
// one single-row insert of its id (the benchmark's ceiling table), answer JSON. No signature, parsing
// or encryption, so its CPU per delivery is the runtime's HTTP and socket cost: the floor under the
// function's. Prints {"listening": port} like webhook_function_server.ts.
import { createDb, sqlLiteral } from "../../supabase/functions/_shared/db.ts";

const sql = createDb(Deno.env.get("SUPABASE_DB_URL")!, { max: 3, applicationName: "churn-saver-bench-peer" });
const server = Deno.serve(
  {
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => console.log(JSON.stringify({ listening: port })),
  },
  async (request) => {
    const body = await request.text();
    const id = request.headers.get("webhook-id") ?? crypto.randomUUID();
    // In one round trip, as the function sends its statement (sqlLiteral).
    const values = `(${sqlLiteral(id)}, 'biz_peer')`;
    await sql.unsafe(
      `insert into bench_ingest.ceiling (id, company_id) values ${values} on conflict (id) do nothing`,
    );
    return Response.json({ received: true, bytes: body.length });
  },
);
Deno.addSignalListener("SIGTERM", async () => {
  await server.shutdown();
  await sql.end({ timeout: 1 });
  Deno.exit(0);
});
