// The database half of the ingest benchmark: the scratch schema (bench_ingest: the ceiling's table and
// sequences that hand out fresh ids), the function's own rows as text templates, pgbench runs of the
// scripts in tests/bench/pgbench/ with the cluster's CPU per transaction, and the stored-data seed.
import { loadKeyRing } from "../../supabase/functions/_shared/crypto/pii.ts";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { normalizeWebhook } from "../../supabase/functions/_shared/whop/normalize.ts";
import { eventRow } from "../../supabase/functions/whop-webhook/store_event.ts";
import { paymentEvent, webhookEnvelope } from "../../whop-sandbox/payloads.ts";
import { clusterCpuSeconds } from "./ingest_measure.ts";

export const COMPANIES = 50;
const CONFLICT_ROWS = 100_000;
const PGBENCH_DIR = new URL("./pgbench/", import.meta.url).pathname;

export interface BenchCompanies {
  tag: string;
  prefix: string;
  ids: string[];
}

/** 50 companies of this run, provisioned as a first event would (companies + default settings). */
export async function createCompanies(sql: Sql, tag: string): Promise<BenchCompanies> {
  const prefix = `biz_bi${tag}c`;
  const ids = Array.from({ length: COMPANIES }, (_, i) => `${prefix}${i}`);
  await sql`insert into public.companies (company_id, title)
            select id, 'Ingest benchmark ' || id from unnest(${ids}::text[]) id`;
  await sql`insert into public.company_settings (company_id) select unnest(${ids}::text[])`;
  return { tag, prefix, ids };
}

/** The exact row the function sends for a delivery (normalize + eventRow with the stack's keys). */
export async function functionRow(body: { id: string }) {
  const ring = await loadKeyRing(Deno.env.get("ENCRYPTION_KEYS")!);
  const text = JSON.stringify(body);
  const event = await normalizeWebhook(JSON.parse(text), { format: "v1", webhookId: body.id, rawBody: text });
  return eventRow(event, text, ring);
}

/** The function's own rows (`eventRow`) as JSON text with placeholders the pgbench scripts fill in:
 * `{k}` a per-call number, `{c}` the company's index, `{t}` the time. Passed as a pgbench variable, so
 * each call sends the row as text that the server parses into `jsonb`, as it parses the literal the
 * function sends (store_event.ts). (Building the row in SQL from a stored template, as this benchmark
 * first did, cost more than a duplicate's whole ingest.) */
export type RowTemplates = Record<"failed_row" | "duplicate_row" | "succeeded_row" | "unknown_row", string>;

export async function createScratch(sql: Sql, companies: BenchCompanies): Promise<RowTemplates> {
  await sql`drop schema if exists bench_ingest cascade`;
  await sql`create schema bench_ingest`;
  await sql`create table bench_ingest.ceiling (id text primary key, company_id text not null)`;
  await sql`insert into bench_ingest.ceiling select 'c' || i, 'biz_ceiling' from generate_series(1, ${CONFLICT_ROWS}) i`;
  for (const name of ["ceiling", "failed", "succeeded", "unknown"]) {
    await sql.unsafe(`create sequence bench_ingest.${name}_seq`);
  }
  await sql`analyze bench_ingest.ceiling`;
  const { tag, prefix } = companies;
  const template = async (body: { id: string }, fields: Record<string, string>) => {
    const row = await functionRow(body);
    // `{` is outside base64url and the ids' alphabets, so only the placeholders set here are filled.
    if (/\{[kct]\}/.test(JSON.stringify(row))) throw new Error("a row already holds a placeholder");
    return JSON.stringify({ ...row, company_id: `${prefix}{c}`, occurred_at: "{t}", ...fields });
  };
  const member = (kind: string) => ({
    id: `msg_${tag}${kind}{k}`,
    membership_id: `mem_${tag}f{k}`,
    user_id: `user_${tag}f{k}`,
    payment_id: `pay_${tag}${kind}{k}`,
  });
  const payment = (type: "payment.failed" | "payment.succeeded") =>
    paymentEvent(type, {
      companyId: companies.ids[0],
      membershipId: "mem_template",
      userId: "user_template",
      amount: 29.99,
    });
  return {
    failed_row: await template(payment("payment.failed"), member("f")),
    // A redelivery is answered from its id alone, so only the ids vary (one `replace` per call): the
    // harness's own work stays small beside the cheapest row.
    duplicate_row: await template(payment("payment.failed"), {
      ...member("f"),
      company_id: `${prefix}0`,
      occurred_at: new Date().toISOString(),
    }),
    succeeded_row: await template(payment("payment.succeeded"), member("s")),
    unknown_row: await template(
      webhookEnvelope(
        "course_lesson_interaction.completed",
        { id: "crsli_template", company: { id: companies.ids[0] }, completed: true },
        companies.ids[0],
      ),
      { id: `msg_${tag}u{k}` },
    ),
  };
}

export const dropScratch = (sql: Sql) => sql`drop schema if exists bench_ingest cascade`;

export interface PgbenchResult {
  tps: number;
  transactions: number;
  latencyMs: number;
  failed: number;
  /** CPU of the whole cluster over the run, per transaction. */
  dbCpuMs: number;
}

/** One pgbench run of `script` (tests/bench/pgbench/), extended protocol with unnamed statements
 * (-M extended) like postgres.js with `prepare: false` (_shared/db.ts). */
export async function pgbench(options: {
  url: string;
  script: string;
  clients: number;
  seconds?: number;
  transactionsPerClient?: number;
  defines?: Record<string, string | number>;
  postmasterPid: number;
}): Promise<PgbenchResult> {
  const args = [
    "-n",
    "-M",
    "extended",
    "-c",
    String(options.clients),
    "-j",
    String(Math.min(2, options.clients)),
    "-f",
    `${PGBENCH_DIR}${options.script}`,
    ...(options.seconds ? ["-T", String(options.seconds)] : ["-t", String(options.transactionsPerClient)]),
    ...Object.entries(options.defines ?? {}).flatMap(([name, value]) => ["-D", `${name}=${value}`]),
    options.url,
  ];
  const cpuBefore = clusterCpuSeconds(options.postmasterPid);
  const { code, stdout, stderr } = await new Deno.Command("pgbench", {
    args,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  // The postmaster adds an ended backend's CPU to its own children's time when it reaps it.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cpu = clusterCpuSeconds(options.postmasterPid) - cpuBefore;
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  if (code !== 0) throw new Error(`pgbench ${options.script} failed (${code}): ${err.trim().slice(-800)}`);
  const number = (pattern: RegExp) => Number(pattern.exec(out)?.[1] ?? Number.NaN);
  const transactions = number(/number of transactions actually processed: (\d+)/);
  return {
    tps: number(/tps = ([\d.]+) \(without initial connection time\)/),
    transactions,
    latencyMs: number(/latency average = ([\d.]+) ms/),
    failed: number(/number of failed transactions: (\d+)/) || 0,
    dbCpuMs: (cpu * 1000) / transactions,
  };
}

export interface SqlRows {
  ceilingNew: PgbenchResult;
  ceilingConflict: PgbenchResult;
  failed: PgbenchResult;
  duplicate: PgbenchResult;
  succeeded: PgbenchResult;
  unknown: PgbenchResult;
}

/** The ceilings and the four kinds of ingest row, one after another with the same clients. The
 * successes close the cases the failures opened (never more than were opened). */
export async function sqlRows(
  sql: Sql,
  base: { url: string; clients: number; seconds: number; postmasterPid: number },
  templates: RowTemplates,
  label: string,
): Promise<SqlRows> {
  const run = async (script: string, extra: Partial<Parameters<typeof pgbench>[0]> = {}) => {
    console.log(`  ${label}: pgbench ${script} ...`);
    const defines = { companies: COMPANIES, ...templates, ...extra.defines };
    return await pgbench({ ...base, script, ...extra, defines });
  };
  // Not reported: the first seconds of new failures on the run's 50 brand-new companies ran at about
  // half the rate of every later run (2026-12-06: 570/s, then 1,120-1,270/s; track_functions put the
  // difference in the job and case inserts, 2.5 ms against 0.46 ms per case). A deployment's companies
  // are not all new at once.
  await run("ingest_failed.sql", { seconds: 2 });
  const ceilingNew = await run("ceiling_new.sql");
  const ceilingConflict = await run("ceiling_conflict.sql", { defines: { conflict_rows: CONFLICT_ROWS } });
  const failedBefore = await sequenceValue(sql, "failed");
  const failed = await run("ingest_failed.sql");
  const opened = await sequenceValue(sql, "failed");
  const duplicate = await run("ingest_duplicate.sql", { defines: { failed: opened } });
  // Each success closes one case, and only cases this label's failures opened are left to close.
  const closedBefore = await sequenceValue(sql, "succeeded");
  if (closedBefore < failedBefore) await sql`select setval('bench_ingest.succeeded_seq', ${failedBefore})`;
  const perClient = Math.max(1, Math.floor((opened - failedBefore) / base.clients));
  const succeeded = await run("ingest_succeeded.sql", {
    seconds: undefined,
    transactionsPerClient: perClient,
  });
  const unknown = await run("ingest_unknown.sql");
  return { ceilingNew, ceilingConflict, failed, duplicate, succeeded, unknown };
}

async function sequenceValue(sql: Sql, name: string): Promise<number> {
  const [row] = await sql.unsafe(
    `select case when is_called then last_value else 0 end::bigint as n from bench_ingest.${name}_seq`,
  );
  return Number(row.n);
}

/** What the SQL rows left behind, for the printed check: cases opened and closed by the successes. */
export async function sqlOutcome(sql: Sql, companies: BenchCompanies) {
  const [row] = await sql<{ open: number; recovered: number; events: number; jobs: number }[]>`
    select count(*) filter (where status = 'open')::int as open,
           count(*) filter (where status = 'recovered')::int as recovered,
           (select count(*)::int from public.events where company_id = any(${companies.ids})) as events,
           (select count(*)::int from public.job_queue where company_id = any(${companies.ids})) as jobs
    from public.recovery_cases where company_id = any(${companies.ids})`;
  return row;
}

/** `events` events and `cases` cases already stored in the run's companies, set-based: memberships
 * of 3-4 events each (a failure, retries, an outcome), one case per membership for the first
 * `cases` of them, a tenth of those still open with their nudges pending. Payloads are short
 * stand-ins (the size of a stored payload does not change what an insert costs: it is TOASTed). */
export async function seedStored(sql: Sql, companies: BenchCompanies, events: number, cases: number) {
  const started = performance.now();
  const memberships = Math.ceil(events / 3.3);
  const prefix = `${companies.prefix}`;
  const tag = companies.tag;
  console.log(`  seeding ${events.toLocaleString("en-US")} events ...`);
  await sql`
    insert into public.events (id, company_id, type, raw_type, api_version, format, membership_id, user_id,
      payment_id, amount_minor, currency, occurred_at, received_at, processed_at, payload_ciphertext)
    select 'msg_' || ${tag} || 'old' || i, ${prefix} || (m % ${COMPANIES}), t.type, t.type, 'v1', 'v1',
      'mem_' || ${tag} || 'old' || m, 'user_' || ${tag} || 'old' || m, 'pay_' || ${tag} || 'old' || i, 2999, 'usd',
      now() - interval '20 days' + (i % 1000) * interval '1 minute', now() - interval '20 days',
      now() - interval '20 days', md5(i::text) || md5(m::text)
    from generate_series(1, ${events}::int) i
    cross join lateral (select i % ${memberships}::int as m) mm
    cross join lateral (select case when i <= ${memberships}::int or i % 3 = 0 then 'payment.failed'
                                    else 'payment.succeeded' end as type) t`;
  console.log(`  seeding ${cases.toLocaleString("en-US")} cases and the open ones' nudges ...`);
  await sql`
    insert into public.recovery_cases (company_id, membership_id, user_id, status, reason, opened_at, closed_at,
      attribution, failure_count, amount_at_risk_minor, recovered_amount_minor, currency)
    select ${prefix} || (m % ${COMPANIES}), 'mem_' || ${tag} || 'old' || m, 'user_' || ${tag} || 'old' || m,
      s.status, 'payment_failed', now() - interval '20 days', case when s.status <> 'open' then now() - interval '18 days' end,
      case when s.status = 'recovered' then 'organic' end, 1, 2999,
      case when s.status = 'recovered' then 2999 end, 'usd'
    from generate_series(1, ${cases}::int) m
    cross join lateral (select case when m % 10 = 0 then 'open' when m % 10 < 5 then 'recovered'
                                    else 'expired' end as status) s`;
  await sql`
    insert into public.job_queue (case_id, company_id, channel, step, status, scheduled_for)
    select rc.id, rc.company_id, ch.channel, o.step, 'pending', now() + interval '1 day' * (o.step + 1)
    from public.recovery_cases rc
    cross join (values (0), (1), (2)) o(step)
    cross join (values ('push'), ('dm')) ch(channel)
    where rc.company_id = any(${companies.ids}) and rc.status = 'open'
      and rc.membership_id like 'mem_' || ${tag} || 'old%'`;
  await settle(sql);
  return { seconds: (performance.now() - started) / 1000 };
}

/** Both phases start from the same state: no dead rows left by earlier runs (a run deletes what it
 * stored), statistics that match the tables, no checkpoint pending. Without it the empty phase ran
 * against the previous run's dead million events and stale statistics, and its new failures slowed
 * from ~770/s to ~450/s within 8 s (seen 2026-12-06), half the stored phase's rate. */
export async function settle(sql: Sql) {
  console.log("  vacuum analyze and checkpoint ...");
  await sql`vacuum (analyze) public.events, public.recovery_cases, public.job_queue, public.members,
            public.companies, public.company_settings`;
  await sql`checkpoint`;
}
