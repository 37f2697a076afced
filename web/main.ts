// The dashboard server (ARCHITECTURE section 2): its own Deno process, because hosted Supabase
// functions cannot answer text/html.
import { readPort } from "../supabase/functions/_shared/config.ts";
import { log } from "../supabase/functions/_shared/log.ts";
import { stopOnSignal } from "../supabase/functions/_shared/shutdown.ts";
import { createApp } from "./app.ts";

const port = readPort(Deno.env, "DASHBOARD_PORT", 8000);
const { app, appEnv, close } = await createApp();
const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, app.fetch);
log.info(`dashboard listening on http://127.0.0.1:${port}`, { app_env: appEnv });

stopOnSignal(server, close);
