// Entry point on Supabase's edge runtime: the app lives in app.ts so tests can call it directly.
import { createApp } from "./app.ts";

Deno.serve((await createApp()).app.fetch);
