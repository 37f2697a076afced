// Retention under load: a company with N memberships past retention (two events each, a recovered
// case closed 69 days ago with 7 sent nudges, attempts, a click, member details) is purged by
// back-to-back runs of the cron command while a writer keeps ingesting new events; prints the run
// durations and the ingest latency before and during the purge. Needs the dev stack's database
// (DATABASE_URL, or .local/stack.env). `deno task bench retention [--memberships N]`
import postgres from "postgres";
import { envOrLocalStack } from "../../scripts/lib/stack_env.ts";
import { numberOption } from "./options.ts";

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};
const summary = (values: number[]) =>
  `n=${values.length} p50=${percentile(values, 50).toFixed(1)} p95=${percentile(values, 95).toFixed(1)} ` +
  `max=${Math.max(...values).toFixed(1)} ms`;

export async function retentionBench(args: string[]) {
  const memberships = numberOption(args, "memberships", 5000);
  const url = await envOrLocalStack("DATABASE_URL");
  if (!url) {
    throw new Error("DATABASE_URL is not set and there is no .local/stack.env: start scripts/dev.sh first");
  }
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  const companyId = `biz_benchret${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  try {
    let started = performance.now();
    await sql`insert into public.companies (company_id) values (${companyId})`;
    await sql`insert into public.company_settings (company_id) values (${companyId})`;
    await sql`
      insert into public.events (id, company_id, type, raw_type, api_version, membership_id, user_id, occurred_at,
        received_at, processed_at, payload_ciphertext)
      select ${companyId} || '_' || n || '_' || k, ${companyId}, t, t, 'v1', 'mem_' || n, 'user_' || n,
             now() - interval '70 days' + k * interval '1 hour', now() - interval '70 days' + k * interval '1 hour',
             now() - interval '70 days', 'v1.k1.' || repeat('x', 16) || '.' || repeat('y', 600)
      from generate_series(1, ${memberships}) n, (values (0, 'payment.failed'), (1, 'payment.succeeded')) e(k, t)`;
    await sql`
      insert into public.recovery_cases (company_id, membership_id, user_id, status, reason, opened_at, closed_at,
        attribution, recovered_amount_minor, currency, opening_event_id, closing_event_id, updated_at)
      select ${companyId}, 'mem_' || n, 'user_' || n, 'recovered', 'payment_failed', now() - interval '70 days',
             now() - interval '69 days', 'click_through', 1999, 'usd', ${companyId} || '_' || n || '_0',
             ${companyId} || '_' || n || '_1', now() - interval '69 days'
      from generate_series(1, ${memberships}) n`;
    await sql`
      with jobs as (
        insert into public.job_queue (case_id, company_id, channel, step, status, scheduled_for, sent_at)
        select c.id, c.company_id, ch, s, 'sent', c.opened_at, c.opened_at
        from public.recovery_cases c, unnest(array['push', 'dm']) ch, generate_series(0, 2) s
        where c.company_id = ${companyId}
        returning id, case_id, company_id, sent_at, step, channel
      ), attempts as (
        insert into public.notification_attempts (job_id, company_id, status) select id, company_id, 'sent' from jobs
      )
      insert into public.link_clicks (company_id, case_id, job_id, clicked_at)
      select company_id, case_id, id, sent_at + interval '1 hour' from jobs where step = 0 and channel = 'push'`;
    await sql`
      insert into public.members (company_id, user_id, email_ciphertext, last_event_at, updated_at)
      select ${companyId}, 'user_' || n, 'v1.k1.iv.ct', now() - interval '69 days', now() - interval '69 days'
      from generate_series(1, ${memberships}) n`;
    await sql`analyze`;
    console.log(
      `seeded ${memberships} memberships past retention in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );

    // Ingest of new events, the way the webhook function calls it, as a probe of blocking.
    let writing = true;
    let seq = 0;
    const ingest = async (latencies: number[]) => {
      while (writing) {
        const at = performance.now();
        await sql`select public.ingest_webhook_event(${
          sql.json({
            id: `${companyId}_live_${++seq}`,
            company_id: companyId,
            type: "payment.failed",
            raw_type: "payment.failed",
            api_version: "v1",
            occurred_at: new Date().toISOString(),
            membership_id: `mem_live_${seq}`,
            user_id: `user_live_${seq}`,
          })
        })`;
        latencies.push(performance.now() - at);
      }
    };
    const baseline: number[] = [];
    const baselineWriter = ingest(baseline);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    writing = false;
    await baselineWriter;

    const [{ command }] = await sql`select command from cron.job where jobname = 'churn-saver-retention'`;
    const during: number[] = [];
    writing = true;
    const writer = ingest(during);
    const runs: number[] = [];
    const totals: Record<string, number> = {};
    started = performance.now();
    for (;;) {
      const at = performance.now();
      const [row] = await sql.unsafe(command);
      runs.push(performance.now() - at);
      const counts = Object.values(row)[0] as Record<string, number | boolean>;
      for (const [key, value] of Object.entries(counts)) {
        if (typeof value === "number") totals[key] = (totals[key] ?? 0) + value;
      }
      if (!counts.more) break;
    }
    const elapsed = (performance.now() - started) / 1000;
    writing = false;
    await writer;

    const [{ left }] = await sql`
      select count(*)::int as left from public.recovery_cases where company_id = ${companyId} and status <> 'open'`;
    console.log(`purged in ${runs.length} runs, ${elapsed.toFixed(1)} s (cases left: ${left})`);
    console.log(`rows deleted: ${JSON.stringify(totals)}`);
    console.log(`run duration: ${summary(runs)}`);
    console.log(`ingest latency before the purge: ${summary(baseline)}`);
    console.log(`ingest latency during the purge: ${summary(during)}`);
  } finally {
    await sql`delete from public.companies where company_id = ${companyId}`;
    await sql.end();
  }
}
