// Dashboard performance with one big company (issue: "with 100,000 cases for one company, the
// overview and the first cases page render in under 150 ms server time at the 95th percentile; a
// 100,000-row CSV streams in under 5 seconds with flat memory").
//
// Seeds one company with N cases (a realistic mix of statuses, reasons and currencies, opened over
// 90 days, with their nudge jobs and some clicks) in a few bulk statements, then measures server
// time in-process (app.fetch + reading the body, performance.now around it) over R requests after
// a warm-up, streams the CSV export counting rows and bytes while sampling RSS, and deletes the
// company. Before the pages are timed it rolls the company's history up into daily_company_stats
// (timing the first, full refresh and the hourly one), as pg_cron does every hour in production. Needs the database and the Whop sandbox of a running stack: the environment, or
// .local/stack.env (scripts/dev.sh) when DATABASE_URL is not set.
//
//   deno task bench dashboard [--cases 100000] [--requests 200] [--keep]
import { createApp } from "../../web/app.ts";
import { adminToken } from "../support/dashboard.ts";
import { connectAsOwner, dashboardEnv } from "../support/stack.ts";
import { numberOption } from "./options.ts";

const TARGET_P95_MS = 150;
const TARGET_CSV_SECONDS = 5;
const WARM_UP = 20;

type Sql = ReturnType<typeof connectAsOwner>;

export async function dashboardBench(args: string[]) {
  const caseCount = numberOption(args, "cases", 100_000);
  const requests = numberOption(args, "requests", 200);
  const keep = args.includes("--keep");
  await loadStackEnv();

  const sql = connectAsOwner();
  const companyId = `biz_bench${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const { app, close } = await createApp(dashboardEnv());
  try {
    console.log(`dashboard: seeding ${companyId} with ${caseCount.toLocaleString("en-US")} cases ...`);
    const seeded = await seed(sql, companyId, caseCount);
    console.log(
      `  ${seeded.cases.toLocaleString("en-US")} cases, ${seeded.jobs.toLocaleString("en-US")} jobs, ` +
        `${seeded.clicks.toLocaleString("en-US")} clicks in ${seeded.seconds.toFixed(1)} s`,
    );

    const rollup = await timeRefresh(sql, companyId);
    console.log(
      `  daily rollups: first refresh ${rollup.first} rows in ${fmt(rollup.firstMs)} ms, ` +
        `hourly refresh (last 7 days) ${rollup.again} rows in ${fmt(rollup.againMs)} ms`,
    );

    const { token } = await adminToken(companyId);
    const get = async (path: string): Promise<Response> =>
      await app.fetch(
        new Request(`http://dashboard/dashboard/${companyId}${path}`, {
          headers: { accept: "text/html", "x-whop-user-token": token },
        }),
      );

    const pages: { name: string; path: string; gated: boolean }[] = [
      { name: "overview (30 days)", path: "", gated: true },
      { name: "overview (90 days)", path: "?range=90", gated: true },
      { name: "cases, first page", path: "/cases", gated: true },
    ];
    const rows: string[][] = [];
    const verdicts: string[] = [];
    for (const page of pages) {
      const timing = await timePage(get, page.path, requests);
      if (timing === "missing") {
        rows.push([page.name, "not built yet", "", "", ""]);
        verdicts.push(`${page.name}: not built yet`);
        continue;
      }
      rows.push([page.name, fmt(timing.p50), fmt(timing.p95), fmt(timing.max), `${timing.kb.toFixed(0)} KB`]);
      if (page.gated) {
        const pass = timing.p95 < TARGET_P95_MS;
        verdicts.push(
          `${page.name}: p95 ${fmt(timing.p95)} ms ${pass ? "<" : ">="} ${TARGET_P95_MS} ms: ${
            pass ? "PASS" : "FAIL"
          }`,
        );
      }
    }
    console.log(`\nserver time, ${requests} requests after ${WARM_UP} warm-up, one at a time`);
    printTable(["page", "p50 (ms)", "p95 (ms)", "max (ms)", "page size"], rows);

    const csv = await streamCsv(get);
    console.log("\nCSV export (/export.csv), streamed");
    if (csv === "missing") {
      console.log("  not built yet");
      verdicts.push("CSV export: not built yet");
    } else {
      printTable(
        [
          "rows",
          "bytes",
          "first byte (ms)",
          "total (s)",
          "RSS before (MB)",
          "RSS peak (MB)",
          "RSS growth (MB)",
        ],
        [[
          csv.rows.toLocaleString("en-US"),
          csv.bytes.toLocaleString("en-US"),
          fmt(csv.firstByteMs),
          csv.seconds.toFixed(2),
          mb(csv.rssBefore),
          mb(csv.rssPeak),
          mb(csv.rssPeak - csv.rssBefore),
        ]],
      );
      const pass = csv.seconds < TARGET_CSV_SECONDS && csv.rows >= caseCount;
      verdicts.push(
        `CSV export: ${csv.rows.toLocaleString("en-US")} rows in ${csv.seconds.toFixed(2)} s ${
          csv.seconds < TARGET_CSV_SECONDS ? "<" : ">="
        } ${TARGET_CSV_SECONDS} s, RSS +${mb(csv.rssPeak - csv.rssBefore)} MB: ${pass ? "PASS" : "FAIL"}`,
      );
    }
    console.log("\n" + verdicts.join("\n"));
  } finally {
    await close();
    if (!keep) {
      const started = performance.now();
      await sql`delete from public.companies where company_id = ${companyId}`;
      console.log(`\ndeleted ${companyId} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } else {
      console.log(`\nkept ${companyId} (--keep)`);
    }
    await sql.end();
  }
}

/** Uses .local/stack.env (the dev stack) for whatever the environment does not set. */
export async function loadStackEnv() {
  if (Deno.env.get("DATABASE_URL")) return;
  const path = new URL("../../.local/stack.env", import.meta.url);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new Error("DATABASE_URL is not set and there is no .local/stack.env: start scripts/dev.sh first");
  }
  for (const line of text.split("\n")) {
    const match = line.match(/^([A-Z0-9_]+)=(.*)$/);
    if (match && !Deno.env.get(match[1])) Deno.env.set(match[1], match[2].replace(/^"(.*)"$/, "$1"));
  }
}

/** Seeds the company in bulk; statuses follow the state machine's rules (closed_at iff closed,
 * attribution iff recovered, open cases younger than the 14-day window so expiry leaves them alone,
 * no job due and pending so no dispatcher picks one up). */
export async function seed(sql: Sql, companyId: string, count: number) {
  const started = performance.now();
  await sql`insert into public.companies (company_id, title) values (${companyId}, 'Benchmark company')`;
  await sql`insert into public.company_settings (company_id, time_zone) values (${companyId}, 'America/New_York')`;
  const cases = await sql`
    insert into public.recovery_cases (company_id, membership_id, user_id, status, reason, opened_at, closed_at,
      attribution, failure_count, amount_at_risk_minor, recovered_amount_minor, currency)
    with base as materialized (
      select i, now() - random() * interval '90 days' as opened_at, random() as r_open, random() as r_status,
             random() as r_reason, random() as r_currency, random() as r_amount, random() as r_attribution,
             random() as r_close
      from generate_series(1, ${count}::int) as i
    ), shaped as (
      select *,
        case
          when now() - opened_at < interval '14 days' and r_open < 0.6 then 'open'
          when r_status < 0.38 then 'recovered'
          when r_status < 0.58 then 'lost'
          when r_status < 0.90 and now() - opened_at >= interval '14 days' then 'expired'
          when r_status < 0.90 then 'open'
          else 'dismissed'
        end as status,
        case when r_currency < 0.70 then 'usd' when r_currency < 0.88 then 'eur'
             when r_currency < 0.97 then 'gbp' else 'jpy' end as currency
      from base
    )
    select ${companyId}, 'mem_bench_' || i, 'user_bench_' || i, status,
      case when r_reason < 0.60 then 'payment_failed' when r_reason < 0.70 then 'action_required'
           when r_reason < 0.95 then 'cancel_scheduled' else 'membership_deactivated' end,
      opened_at,
      case status when 'open' then null
                  when 'expired' then opened_at + interval '14 days'
                  else opened_at + r_close * least(now() - opened_at, interval '14 days') end,
      case when status <> 'recovered' then null when r_attribution < 0.30 then 'click_through'
           when r_attribution < 0.75 then 'nudged' else 'organic' end,
      1 + floor(r_close * 3)::int,
      amount,
      case when status = 'recovered' then amount end,
      currency
    from shaped
    cross join lateral (select case when currency = 'jpy' then 500 + floor(r_amount * 9500)::bigint
                                    else 499 + floor(r_amount * 19500)::bigint end as amount) a`;
  // The default schedule: days 0, 2, 4 by push and DM, and the incentive with the first nudge.
  const jobs = await sql`
    insert into public.job_queue (case_id, company_id, channel, step, status, scheduled_for, sent_at, attempts)
    select rc.id, rc.company_id, ch.channel, o.step,
      case when d.due <= coalesce(rc.closed_at, now()) then 'sent' when rc.status = 'open' then 'pending'
           else 'cancelled' end,
      case when d.due > now() then greatest(d.due, now() + interval '1 hour') else d.due end,
      case when d.due <= coalesce(rc.closed_at, now()) then d.due + interval '40 seconds' end,
      case when d.due <= coalesce(rc.closed_at, now()) then 1 else 0 end
    from public.recovery_cases rc
    cross join (values (0, 0), (1, 2), (2, 4)) as o(step, offset_days)
    cross join (values ('push'), ('dm'), ('incentive')) as ch(channel)
    cross join lateral (select rc.opened_at + make_interval(days => o.offset_days) as due) d
    where rc.company_id = ${companyId}
      and (ch.channel <> 'incentive' or (o.step = 0 and rc.reason <> 'membership_deactivated'))`;
  const clicks = await sql`
    insert into public.link_clicks (company_id, case_id, job_id, clicked_at, is_bot)
    select j.company_id, j.case_id, j.id, least(j.sent_at + random() * interval '1 day', now()), random() < 0.15
    from public.job_queue j
    where j.company_id = ${companyId} and j.status = 'sent' and j.channel in ('push', 'dm') and random() < 0.08`;
  // What autovacuum would have done by the time a company has this many cases; and the seed's dirty
  // pages written out now, so the checkpointer does not compete with the measured requests.
  await sql`vacuum (analyze) public.recovery_cases, public.job_queue, public.link_clicks`;
  await sql`checkpoint`;
  return {
    cases: cases.count,
    jobs: jobs.count,
    clicks: clicks.count,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The first refresh backfills every finished day; the next one is what pg_cron runs hourly. */
async function timeRefresh(sql: Sql, companyId: string) {
  const refresh = async () => {
    const started = performance.now();
    const [{ rows }] = await sql<{ rows: number }[]>`
      select private.refresh_daily_stats(${companyId}) as rows`;
    return { rows, ms: performance.now() - started };
  };
  const first = await refresh();
  const again = await refresh();
  await sql`vacuum (analyze) public.daily_company_stats, public.companies`;
  return { first: first.rows, firstMs: first.ms, again: again.rows, againMs: again.ms };
}

async function timePage(get: (path: string) => Promise<Response>, path: string, requests: number) {
  const first = await get(path);
  const firstBody = await first.text();
  if (first.status === 404) return "missing" as const;
  if (first.status !== 200) {
    throw new Error(`${path || "/"} answered ${first.status}: ${firstBody.slice(0, 300)}`);
  }
  for (let i = 0; i < WARM_UP; i++) await (await get(path)).text();
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    const response = await get(path);
    await response.text();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
  return { p50: at(0.5), p95: at(0.95), max: times[times.length - 1], kb: firstBody.length / 1024 };
}

async function streamCsv(get: (path: string) => Promise<Response>) {
  const rssBefore = Deno.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sample = () => {
    const rss = Deno.memoryUsage().rss;
    if (rss > rssPeak) rssPeak = rss;
  };
  const sampler = setInterval(sample, 5);
  const started = performance.now();
  try {
    const response = await get("/export.csv");
    if (response.status === 404) {
      await response.body?.cancel();
      return "missing" as const;
    }
    if (response.status !== 200 || !response.body) {
      throw new Error(`/export.csv answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    }
    let bytes = 0;
    let newlines = 0;
    let firstByteMs = 0;
    let lastByte = 10;
    for await (const chunk of response.body) {
      if (bytes === 0) firstByteMs = performance.now() - started;
      bytes += chunk.byteLength;
      for (const byte of chunk) if (byte === 10) newlines++;
      lastByte = chunk[chunk.byteLength - 1];
      sample();
    }
    // Rows = lines after the header (a last line without a newline still counts).
    const lines = newlines + (lastByte === 10 ? 0 : 1);
    return {
      rows: Math.max(0, lines - 1),
      bytes,
      firstByteMs,
      seconds: (performance.now() - started) / 1000,
      rssBefore,
      rssPeak,
    };
  } finally {
    clearInterval(sampler);
  }
}

export const fmt = (ms: number) => ms.toFixed(1);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

export function printTable(header: string[], rows: string[][]) {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length))
  );
  const line = (cells: string[]) =>
    "| " + cells.map((cell, i) => (cell ?? "").padEnd(widths[i])).join(" | ") + " |";
  console.log(line(header));
  console.log("| " + widths.map((width) => "-".repeat(width)).join(" | ") + " |");
  for (const row of rows) console.log(line(row));
}
