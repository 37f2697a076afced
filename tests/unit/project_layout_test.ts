// The conventions other tools rely on: one config.toml block per function, thin index.ts files,
// migration names `supabase migration new` would produce, each with a header comment.
import assert from "node:assert/strict";
import { listFunctions } from "../../scripts/local/functions_gateway.ts";

const root = new URL("../../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, root));

Deno.test("every function has app.ts, a thin index.ts and a documented config.toml block", async () => {
  const config = await read("supabase/config.toml");
  const functions = await listFunctions();
  assert.deepEqual(functions, ["dispatch-notifications", "whop-webhook"]);
  for (const name of functions) {
    const block = config.split(`[functions.${name}]`)[1]?.split(/\n\[/)[0];
    assert.ok(block, `config.toml has [functions.${name}]`);
    assert.match(block, /# Auth: /, `${name}: its auth is documented`);
    assert.match(block, /verify_jwt = (true|false)/, `${name}: verify_jwt is explicit`);
    const index = await read(`supabase/functions/${name}/index.ts`);
    assert.match(
      index,
      /Deno\.serve\(\(?(await )?createApp\(\)\)?\.app\.fetch\)/,
      `${name}: index.ts only serves the app`,
    );
  }
});

Deno.test("migrations are named and introduced like `supabase migration new` files", async () => {
  const names: string[] = [];
  for await (const entry of Deno.readDir(new URL("supabase/migrations/", root))) names.push(entry.name);
  assert.ok(names.length >= 8);
  for (const name of names) {
    assert.match(name, /^\d{14}_[a-z0-9_]+\.sql$/, name);
    const sql = await read(`supabase/migrations/${name}`);
    assert.match(sql, /^-- \S/, `${name} starts with a header comment`);
  }
});

Deno.test("the bootstrap lives outside the migrations", async () => {
  await Deno.stat(new URL("supabase/bootstrap.sql", root));
  for await (const entry of Deno.readDir(new URL("supabase/migrations/", root))) {
    const sql = await read(`supabase/migrations/${entry.name}`);
    assert.doesNotMatch(sql, /create role/i, `${entry.name} must not create Supabase's roles`);
  }
});
