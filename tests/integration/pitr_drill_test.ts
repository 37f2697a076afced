// PITR drill on its own scratch cluster (never the shared test cluster): rows written, base backup,
// more rows, a timestamp taken, rows deleted; `deno task pitr restore --to <timestamp>` brings every
// row back and keeps the data directory it replaced. Restoring the project's schema to a moment
// before a rollback leaves processing off (ROLLBACK_MODE on, audited) until `rollout resume`. Bad
// requests fail with a message naming why.
import assert from "node:assert/strict";
import { stripVTControlCharacters } from "node:util";
import postgres from "postgres";
import { rollout } from "../support/cli.ts";
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
    assert.match(
      restore.stdout,
      /processing\s+no feature flags in this database/,
      "a cluster without the schema",
    );
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

Deno.test("PITR drill: a restore to before a rollback leaves processing off until `rollout resume`", async () => {
  await withScratchCluster(async ({ dir, port, url }) => {
    const schema = await bash(`source scripts/lib/common.sh && apply_schema '${url}'`);
    assert.equal(schema.code, 0, schema.stderr);
    const cli = (...args: string[]) => rollout(args, { DATABASE_URL: url });
    const full = await cli("full", "--actor", "drill-operator");
    assert.equal(full.code, 0, full.text);

    let sql = postgres(url, { max: 1, onnotice: () => {} });
    // A due nudge, which a running dispatcher would claim at once.
    await sql`insert into public.companies (company_id) values ('biz_pitr_drill')`;
    await sql`insert into public.company_settings (company_id, experience_id) values ('biz_pitr_drill', 'exp_drill')`;
    await sql`
      with opened as (
        insert into public.recovery_cases (company_id, membership_id, user_id, reason, opened_at)
        values ('biz_pitr_drill', 'mem_drill', 'user_drill', 'payment_failed', now() - interval '1 hour')
        returning id
      )
      insert into public.job_queue (case_id, company_id, channel, step, scheduled_for)
      select id, 'biz_pitr_drill', 'push', 0, now() - interval '1 minute' from opened`;
    await sql.end();

    const backup = await pitr(dir, port, "backup");
    assert.equal(backup.code, 0, backup.stderr);
    sql = postgres(url, { max: 1, onnotice: () => {} });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [{ beforeRollback }] = await sql`select to_char(clock_timestamp() at time zone 'utc',
                                            'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "beforeRollback"`;
    await sql.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const rolledBack = await cli("rollback", "--actor", "drill-operator");
    assert.equal(rolledBack.code, 0, rolledBack.text);

    const restore = await pitr(dir, port, "restore", "--to", beforeRollback, "--actor", "restore-operator");
    assert.equal(restore.code, 0, restore.stderr + restore.stdout);
    const held =
      /processing\s+ROLLBACK_MODE on \(audit_log #(\d+)\): nothing is processed, claimed or sent until `deno task rollout resume`/
        .exec(restore.stdout);
    assert.ok(held, restore.stdout);
    assert.match(restore.stdout, /Processing stays off.*\n.*then run: deno task rollout resume/);

    sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const actions = await sql`select id, actor, action, before, after from public.audit_log
                                where company_id is null order by id`;
      assert.deepEqual(
        actions.map((row) => `${row.actor} ${row.action}`),
        ["drill-operator rollout.full", "restore-operator pitr.restore"],
        "the rollback is gone with the restore; the hold is audited in its place",
      );
      const hold = actions[1];
      assert.equal(String(hold.id), held[1]);
      assert.equal(
        hold.before.flags.ROLLBACK_MODE.enabled,
        false,
        "the restore point was before the rollback",
      );
      assert.equal(hold.after.flags.ROLLBACK_MODE.enabled, true);
      assert.equal(
        hold.after.flags.SCHEDULER_ENABLED.enabled,
        true,
        "the phase of the restore point is kept",
      );
      assert.equal(Date.parse(hold.after.restored_to), Date.parse(beforeRollback));
      const [{ rollback, updatedBy }] = await sql`
        select enabled as rollback, updated_by as "updatedBy" from public.feature_flags where name = 'ROLLBACK_MODE'`;
      assert.deepEqual([rollback, updatedBy], [true, "restore-operator"]);
      const claimed = await sql`select job_id from public.claim_due_jobs('drill-dispatcher', 10)`;
      assert.equal(claimed.length, 0, "no due job is claimed after the restore");
    } finally {
      await sql.end();
    }

    const status = await cli("status", "--skip-health");
    assert.match(status.stdout, /phase: rollback/, status.text);
    const resumed = await cli("resume", "--actor", "drill-operator");
    assert.equal(resumed.code, 0, resumed.text);
    assert.match(resumed.stdout, /phase now: full/);
    sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const claimed = await sql`select job_id, status from public.claim_due_jobs('drill-dispatcher', 10)`;
      assert.deepEqual(claimed.map((row) => row.status), ["claimed"], "after resume the due job is claimed");
    } finally {
      await sql.end();
    }
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
