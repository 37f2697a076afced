// How long the rollout's checks take on a big database: the integrity checks (the daily cron job
// and `deno task rollout integrity`) and verify's window measurement, over N cases that all fall
// inside the default 7-day window (the worst case: every row is judged).
//
// Seeds one company with N payment failures (processed) and their cases, half of them recovered by
// a stored success event, three nudge jobs per case and an attempt per sent job, in a few bulk
// statements; times R runs of each and deletes the company. Needs a running stack's database: the
// environment's DATABASE_URL, or .local/stack.env (scripts/dev.sh).
//
//   deno task bench integrity [--cases 100000] [--runs 5] [--keep]
import { connectDatabase } from "../../scripts/lib/database.ts";
import { formatTable } from "../../scripts/lib/table.ts";
import { measureWindow } from "../../scripts/rollout/metrics.ts";
import { THRESHOLDS } from "../../scripts/rollout/thresholds.ts";
import { numberOption } from "./options.ts";

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function integrityBench(args: string[]) {
  const count = numberOption(args, "cases", 100_000);
  const runs = numberOption(args, "runs", 5);
  const sql = await connectDatabase("bench-integrity");
  const companyId = `biz_benchint${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
  try {
    const seeded = performance.now();
    // One base time for every statement: a case opens exactly when its failure happened.
    const base = new Date();
    await sql`insert into public.companies (company_id) values (${companyId})`;
    await sql`insert into public.company_settings (company_id) values (${companyId})`;
    await sql`
      insert into public.events (id, company_id, type, raw_type, api_version, membership_id, occurred_at, processed_at)
      select 'msg_bf_' || i, ${companyId}, 'payment.failed', 'payment.failed', 'v1', 'mem_b_' || i,
             ${base}::timestamptz - (i % 10000) * interval '50 seconds', now()
      from generate_series(1, ${count}::int) i
      union all
      select 'msg_bs_' || i, ${companyId}, 'payment.succeeded', 'payment.succeeded', 'v1', 'mem_b_' || i,
             ${base}::timestamptz - (i % 10000) * interval '50 seconds' + interval '1 hour', now()
      from generate_series(1, ${count}::int) i where i % 2 = 0`;
    await sql`
      insert into public.recovery_cases (company_id, membership_id, status, reason, opened_at, closed_at, attribution,
                                         opening_event_id, closing_event_id)
      select ${companyId}, 'mem_b_' || i, case when i % 2 = 0 then 'recovered' else 'open' end, 'payment_failed',
             ${base}::timestamptz - (i % 10000) * interval '50 seconds',
             case when i % 2 = 0 then ${base}::timestamptz - (i % 10000) * interval '50 seconds' + interval '1 hour' end,
             case when i % 2 = 0 then 'nudged' end, 'msg_bf_' || i, case when i % 2 = 0 then 'msg_bs_' || i end
      from generate_series(1, ${count}::int) i`;
    await sql`
      insert into public.job_queue (case_id, company_id, channel, step, status, scheduled_for, sent_at)
      select rc.id, rc.company_id, ch.channel, 0, case when ch.channel = 'incentive' then 'pending' else 'sent' end,
             rc.opened_at, case when ch.channel <> 'incentive' then rc.opened_at end
      from public.recovery_cases rc cross join (values ('push'), ('dm'), ('incentive')) ch(channel)
      where rc.company_id = ${companyId}`;
    await sql`
      insert into public.notification_attempts (job_id, company_id, status)
      select id, company_id, 'sent' from public.job_queue where company_id = ${companyId} and status = 'sent'`;
    await sql`analyze public.events, public.recovery_cases, public.job_queue, public.notification_attempts`;
    console.log(`seeded ${count} cases in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

    const since = new Date(Date.now() - THRESHOLDS.integrityDays * 86_400_000);
    const timings: Record<string, number[]> = { integrity: [], window: [] };
    for (let run = 0; run < runs; run++) {
      let started = performance.now();
      const [{ id }] = await sql`select private.run_integrity_checks(${since}, 'cli') as id`;
      timings.integrity.push(performance.now() - started);
      await sql`delete from public.integrity_runs where id = ${id}`;
      started = performance.now();
      await measureWindow(sql, since, since, THRESHOLDS.maxOverdueMinutes);
      timings.window.push(performance.now() - started);
    }
    console.log(formatTable(
      ["measurement", "runs", "median (ms)", "max (ms)"],
      Object.entries(timings).map(([name, values]) => [
        name === "integrity" ? "private.run_integrity_checks (7 days)" : "verify window metrics (7 days)",
        String(values.length),
        median(values).toFixed(0),
        Math.max(...values).toFixed(0),
      ]),
    ));
  } finally {
    if (!args.includes("--keep")) await sql`delete from public.companies where company_id = ${companyId}`;
    await sql.end();
  }
}
