// The whop-webhook function served on its own, the way Supabase's edge runtime serves index.ts
// (Deno.serve(app.fetch), one isolate per function), on a free loopback port. The local gateway
// (scripts/local/functions_gateway.ts) instead runs every function in one process and re-creates
// each request on the way in; load tests that measure the function itself use this.
// Configuration comes from the environment, like index.ts; prints {"listening": port} when ready.
import { createApp } from "../../supabase/functions/whop-webhook/app.ts";
import { stopOnSignal } from "../../supabase/functions/_shared/shutdown.ts";

const { app, close } = await createApp();
const server = Deno.serve(
  {
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => console.log(JSON.stringify({ listening: port })),
  },
  app.fetch,
);
stopOnSignal(server, close);
