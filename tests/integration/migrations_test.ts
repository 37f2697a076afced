// The migrations as `supabase db push` applied them to the test cluster: every file recorded,
// a second push changes nothing, the bootstrap can be re-applied, pg_cron holds the project's jobs.
import assert from "node:assert/strict";
import { connectAsOwner, stack } from "../support/stack.ts";

const root = new URL("../../", import.meta.url);

async function run(command: string, args: string[]) {
  const output = await new Deno.Command(command, {
    args,
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `${command} ${args.join(" ")} failed:\n${text}`);
  return text;
}

// pg_dump 15.14+ writes a random \\restrict key into each dump; it is not part of the schema.
const schemaDump = async () =>
  (await run("pg_dump", ["--schema-only", "--no-owner", "--exclude-schema=extensions", stack.databaseUrl]))
    .replace(/^\\(un)?restrict .*$/gm, "");

Deno.test("supabase_migrations.schema_migrations lists every migration file", async () => {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL("supabase/migrations/", root))) {
    files.push(entry.name.slice(0, 14));
  }
  const sql = connectAsOwner();
  try {
    const rows = await sql<
      { version: string }[]
    >`select version from supabase_migrations.schema_migrations order by version`;
    assert.deepEqual(rows.map((row) => row.version), files.sort());
  } finally {
    await sql.end();
  }
});

Deno.test("pushing the migrations again changes nothing", async () => {
  const before = await schemaDump();
  const output = await run("node_modules/.bin/supabase", [
    "db",
    "push",
    "--db-url",
    stack.databaseUrl,
    "--yes",
  ]);
  assert.match(output, /up to date/i);
  assert.equal(await schemaDump(), before);
});

Deno.test("re-applying the bootstrap keeps new objects private", async () => {
  await run("psql", [stack.databaseUrl, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "supabase/bootstrap.sql"]);
  const sql = connectAsOwner();
  try {
    await sql.begin(async (tx) => {
      await tx`create table public.bootstrap_probe (id int)`;
      const [row] = await tx`select has_table_privilege('anon', 'public.bootstrap_probe', 'select') as anon,
                                     has_table_privilege('authenticated', 'public.bootstrap_probe', 'select') as authenticated`;
      assert.deepEqual({ ...row }, { anon: false, authenticated: false });
      throw new Rollback();
    }).catch((error) => {
      if (!(error instanceof Rollback)) throw error;
    });
  } finally {
    await sql.end();
  }
});

Deno.test("pg_cron is preloaded and holds the project's jobs", async () => {
  const sql = connectAsOwner();
  try {
    const [preload] = await sql`select current_setting('shared_preload_libraries') as value`;
    assert.match(preload.value, /pg_cron/);
    const jobs = await sql<{ jobname: string }[]>`select jobname from cron.job order by jobname`;
    assert.ok(jobs.some((job) => job.jobname === "churn-saver-trim-cron-history"));
  } finally {
    await sql.end();
  }
});

class Rollback extends Error {}
