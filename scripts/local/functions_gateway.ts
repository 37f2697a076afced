// Local stand-in for Supabase's edge runtime gateway (which needs Docker): serves every function in
// supabase/functions at /functions/v1/<name>/..., passing each function's Hono app the path it sees
// when deployed (/<name>/...), and the caller's address in x-forwarded-for and cf-connecting-ip like
// the hosted gateway.
// Each function keeps its own app and database pool; unlike the hosted runtime they share a process.
import { Hono } from "hono";
import { type EnvReader, readPort } from "../../supabase/functions/_shared/config.ts";
import { errorBody } from "../../supabase/functions/_shared/http.ts";
import { log } from "../../supabase/functions/_shared/log.ts";
import { stopOnSignal } from "../../supabase/functions/_shared/shutdown.ts";

interface FunctionApp {
  app: { fetch: (request: Request) => Response | Promise<Response> };
  close: () => Promise<void>;
}

const FUNCTIONS_DIR = new URL("../../supabase/functions/", import.meta.url);

/** Function folders: every folder with an app.ts, except shared code (`_shared`, `_*`). */
export async function listFunctions(dir: URL = FUNCTIONS_DIR): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isDirectory || entry.name.startsWith("_") || entry.name.startsWith(".")) continue;
    try {
      await Deno.stat(new URL(`${entry.name}/app.ts`, dir));
      names.push(entry.name);
    } catch {
      // A folder without app.ts is not a function.
    }
  }
  return names.sort();
}

export async function createGateway(env: EnvReader = Deno.env, dir: URL = FUNCTIONS_DIR) {
  const functions = new Map<string, FunctionApp>();
  for (const name of await listFunctions(dir)) {
    const module = await import(new URL(`${name}/app.ts`, dir).href) as {
      createApp: (env: EnvReader) => FunctionApp | Promise<FunctionApp>;
    };
    functions.set(name, await module.createApp(env));
  }

  const gateway = new Hono<{ Bindings: { remoteAddr?: string } }>();
  gateway.get("/health", (c) => c.json({ status: "ok", functions: [...functions.keys()] }));
  gateway.all(
    "/functions/v1/:name{[^/]+}/*",
    (c) => route(c.req.param("name"), c.req.raw, c.env?.remoteAddr),
  );
  gateway.all("/functions/v1/:name{[^/]+}", (c) => route(c.req.param("name"), c.req.raw, c.env?.remoteAddr));
  gateway.notFound((c) => c.json(errorBody("not_found", "Use /functions/v1/<function-name>."), 404));

  function route(name: string, request: Request, remoteAddr?: string) {
    const fn = functions.get(name);
    if (!fn) {
      return Response.json(errorBody("function_not_found", `Requested function "${name}" was not found.`), {
        status: 404,
      });
    }
    const url = new URL(request.url);
    url.pathname = url.pathname.slice("/functions/v1".length);
    const headers = new Headers(request.headers);
    // The peer address replaces whatever the client claimed, as Cloudflare does in front of hosted
    // Supabase for cf-connecting-ip (the whop-webhook function keys its failure limit by it).
    headers.delete("cf-connecting-ip");
    if (remoteAddr) {
      headers.set("x-forwarded-for", remoteAddr);
      headers.set("cf-connecting-ip", remoteAddr);
    }
    return fn.app.fetch(
      new Request(url, { method: request.method, headers, body: request.body, redirect: "manual" }),
    );
  }

  return {
    fetch: (request: Request, remoteAddr?: string) => gateway.fetch(request, { remoteAddr }),
    functions: [...functions.keys()],
    close: () => Promise.all([...functions.values()].map((fn) => fn.close())).then(() => {}),
  };
}

if (import.meta.main) {
  const port = readPort(Deno.env, "FUNCTIONS_PORT", 54321);
  const gateway = await createGateway();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    (request, info) => gateway.fetch(request, info.remoteAddr.hostname),
  );
  log.info(`functions gateway listening on http://127.0.0.1:${port}/functions/v1`, {
    functions: gateway.functions,
  });
  stopOnSignal(server, gateway.close);
}
