// PITR drill on its own scratch cluster (never the shared test cluster): rows written, base backup,
// more rows, a timestamp taken, rows deleted; `deno task pitr restore --to <timestamp>` brings every
// row back and keeps the data directory it replaced. Bad requests fail with a message naming why.
import assert from "node:assert/strict";
import { stripVTControlCharacters } from "node:util";
import postgres from "postgres";
import { freePort, isRoot } from "../support/dev_script.ts";

const root = new URL("../../", import.meta.url).pathname;

async function bash(script: string, env: Record<string, string> = {}) {
  const output = await new Deno.Command("bash", {
    args: ["-c", script],
    cwd: root,
    env: { ...env, DB_PORT: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (bytes: Uint8Array) => stripVTControlCharacters(new TextDecoder().decode(bytes));
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}

async function withScratchCluster(
  fn: (cluster: { dir: string; port: number; url: string }) => Promise<void>,
) {
  // The postgres OS user runs the cluster when we are root, so its directory must be reachable.
  const stateDir = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "churn-saver-pitr-" });
  if (isRoot) await Deno.chmod(stateDir, 0o755);
  const dir = `${stateDir}/drill`;
  const port = freePort();
  try {
    const init = await bash(
      `source scripts/lib/common.sh && cluster_init "${dir}" dev && cluster_start "${dir}" ${port}`,
    );
    assert.equal(init.code, 0, init.stderr);
    await fn({ dir, port, url: `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable` });
  } finally {
    await bash(`source scripts/lib/common.sh && cluster_stop "${dir}"`);
    await Deno.remove(stateDir, { recursive: true });
  }
}

/** `deno task pitr ARGS` against the scratch cluster. */
const pitr = (dir: string, port: number, ...args: string[]) =>
  bash(`bash scripts/pitr.sh ${args.map((arg) => `'${arg}'`).join(" ")} --cluster '${dir}' --port ${port}`);

Deno.test("PITR drill: restore to a timestamp brings deleted rows back", async () => {
  await withScratchCluster(async ({ dir, port, url }) => {
    let sql = postgres(url, { max: 1, onnotice: () => {} });
    await sql`create table drill (id int primary key, note text not null)`;
    await sql`insert into drill select n, 'before the backup ' || n from generate_series(1, 3) n`;
    await sql.end();

    const backup = await pitr(dir, port, "backup");
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /WAL end\s+[0-9A-F]+\/[0-9A-F]+/);
    assert.match(backup.stdout, /size\s+\d/);
    const backupId = /backup\s+(\d{8}T\d{6}Z)/.exec(backup.stdout)?.[1];
    assert.ok(backupId, backup.stdout);

    sql = postgres(url, { max: 1, onnotice: () => {} });
    await sql`insert into drill select n, 'after the backup ' || n from generate_series(4, 6) n`;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [{ at }] = await sql`select to_char(clock_timestamp() at time zone 'utc',
                                'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at`;
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sql`delete from drill where id in (2, 5, 6)`;
    await sql`update drill set note = 'changed' where id = 1`;
    assert.equal((await sql`select count(*)::int as n from drill`)[0].n, 3);
    await sql.end();

    const restore = await pitr(dir, port, "restore", "--to", at);
    assert.equal(restore.code, 0, restore.stderr + restore.stdout);
    assert.match(restore.stdout, new RegExp(`from backup\\s+${backupId}`));
    assert.match(restore.stdout, /recovery\s+recovery stopping before commit/);
    const aside = /previous data\s+(\S+)/.exec(restore.stdout)?.[1];
    assert.ok(
      aside && (await Deno.stat(`${aside}/PG_VERSION`)).isFile,
      "the replaced data directory is kept",
    );

    sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`select id, note from drill order by id`;
      assert.deepEqual(
        rows.map((row) => row.id),
        [1, 2, 3, 4, 5, 6],
        "deleted rows are back, later ones too",
      );
      assert.equal(rows[0].note, "before the backup 1", "the later update is undone");
      const [{ recovering }] = await sql`select pg_is_in_recovery() as recovering`;
      assert.equal(recovering, false, "promoted: the database takes writes again");
      await sql`insert into drill values (7, 'after the restore')`;
      // (They only matter during recovery; the running server forgets them at its next start.)
      const left =
        await sql`select name from pg_file_settings where name like 'recovery_target%' or name = 'restore_command'`;
      assert.equal(
        left.length,
        0,
        "the recovery settings are removed from the configuration once recovery is done",
      );
    } finally {
      await sql.end();
    }

    const list = await pitr(dir, port, "list");
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(backupId));
    assert.match(list.stdout, /archiving\s+on/);
  });
});

Deno.test("pitr refuses what it cannot do, naming the problem", async () => {
  await withScratchCluster(async ({ dir, port }) => {
    const noBackup = await pitr(dir, port, "restore", "--to", new Date(Date.now() - 1000).toISOString());
    assert.notEqual(noBackup.code, 0);
    assert.match(noBackup.stderr, /no base backup of .* yet\. Take one with: deno task pitr backup/);

    const beforeBackup = new Date(Date.now() - 60_000).toISOString();
    const backup = await pitr(dir, port, "backup");
    assert.equal(backup.code, 0, backup.stderr);

    const cases: [string[], RegExp][] = [
      [["restore", "--to", "not a time"], /cannot read the timestamp "not a time"/],
      [["restore", "--to", new Date(Date.now() + 3_600_000).toISOString()], /is in the future/],
      [["restore", "--to", beforeBackup], /no base backup finished before .*; the oldest finished at/],
      [["restore"], /restore needs --to/],
      [["rewind"], /unknown command 'rewind'/],
    ];
    for (const [args, message] of cases) {
      const result = await pitr(dir, port, ...args);
      assert.notEqual(result.code, 0, args.join(" "));
      assert.match(result.stderr, message);
    }
    const missing = await bash(`bash scripts/pitr.sh list --cluster '${dir}-missing'`);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no Postgres cluster at .*-missing/);

    // Nothing was stopped or moved by the refusals.
    const sql = postgres(`postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`, { max: 1 });
    try {
      assert.equal((await sql`select 1 as one`)[0].one, 1);
    } finally {
      await sql.end();
    }
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((name) => name.startsWith("data.")),
      [],
    );
  });
});
