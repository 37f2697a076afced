// Retention as pg_cron runs it: the command of the `churn-saver-retention` job, read from
// cron.job and executed, purges this test's rows that are past retention (events 31 days after
// receipt, a case 61 days after closing with its jobs, attempts and clicks, member details nothing
// refers to) and keeps the younger ones, the open case and the daily rollups.
import assert from "node:assert/strict";
import { connectAsOwner } from "../support/stack.ts";
import { uniqueCompany } from "../support/webhooks.ts";

Deno.test("the retention cron job purges what is past retention and keeps the rest", async () => {
  const sql = connectAsOwner();
  const companyId = uniqueCompany("ret");
  const ago = (days: number) => new Date(Date.now() - days * 86_400_000);
  try {
    await sql`insert into public.companies (company_id) values (${companyId})`;
    await sql`insert into public.company_settings (company_id) values (${companyId})`;
    await sql`
      insert into public.events (id, company_id, type, raw_type, api_version, occurred_at, received_at, payload_ciphertext)
      values (${`${companyId}_31`}, ${companyId}, 'payment.created', 'payment.created', 'v1', ${ago(31)}, ${
      ago(31)
    }, 'v1.k.iv.ct'),
             (${`${companyId}_29`}, ${companyId}, 'payment.created', 'payment.created', 'v1', ${ago(29)}, ${
      ago(29)
    }, 'v1.k.iv.ct')`;
    // Written when they closed (updated_at), as the case engine leaves them.
    const cases = await sql<{ id: string; membership_id: string }[]>`
      insert into public.recovery_cases (company_id, membership_id, user_id, status, reason, opened_at, closed_at,
        attribution, recovered_amount_minor, currency, updated_at)
      select ${companyId}, c.membership_id, c.user_id, c.status, 'payment_failed', c.opened_at, c.closed_at,
             c.attribution, c.amount, c.currency, coalesce(c.closed_at, c.opened_at)
      from (values ('mem_61', 'user_61', 'recovered', ${ago(65)}::timestamptz, ${
      ago(61)
    }::timestamptz, 'nudged',
                    1999, 'eur'),
                   ('mem_59', 'user_59', 'lost', ${ago(65)}, ${ago(59)}, null, null, null),
                   ('mem_open', 'user_open', 'open', ${ago(120)}, null, null, null, null))
        as c(membership_id, user_id, status, opened_at, closed_at, attribution, amount, currency)
      returning id, membership_id`;
    await sql`
      with jobs as (
        insert into public.job_queue (case_id, company_id, channel, step, status, scheduled_for, sent_at)
        select id, company_id, 'push', 0, 'sent', opened_at, opened_at from public.recovery_cases where company_id = ${companyId}
        returning id, case_id, company_id, sent_at
      ), attempts as (
        insert into public.notification_attempts (job_id, company_id, status) select id, company_id, 'sent' from jobs
      )
      insert into public.link_clicks (company_id, case_id, job_id, clicked_at)
      select company_id, case_id, id, sent_at + interval '1 hour' from jobs`;
    await sql`
      insert into public.members (company_id, user_id, email_ciphertext, last_event_at, updated_at)
      select ${companyId}, u, 'v1.k.iv.ct', t, t
      from unnest(array['user_61', 'user_59', 'user_open']) u, (select ${ago(65)}::timestamptz as t) written`;

    const [job] = await sql`select command from cron.job where jobname = 'churn-saver-retention'`;
    assert.ok(job, "the retention job is scheduled");
    // A run is bounded; rows other tests left behind may need a few.
    for (let run = 0; run < 20; run++) {
      const [row] = await sql.unsafe(job.command);
      const counts = Object.values(row)[0] as { more: boolean };
      if (!counts.more) break;
    }

    const events = await sql`select id from public.events where company_id = ${companyId} order by id`;
    assert.deepEqual(events.map((e) => e.id), [`${companyId}_29`]);
    const kept =
      await sql`select membership_id from public.recovery_cases where company_id = ${companyId} order by 1`;
    assert.deepEqual(kept.map((c) => c.membership_id), ["mem_59", "mem_open"]);
    const purgedCase = cases.find((c) => c.membership_id === "mem_61")!.id;
    for (const table of ["job_queue", "link_clicks"]) {
      const [{ n }] = await sql.unsafe(`select count(*)::int as n from public.${table} where case_id = $1`, [
        purgedCase,
      ]);
      assert.equal(n, 0, `${table} of the purged case`);
    }
    const [{ attempts }] =
      await sql`select count(*)::int as attempts from public.notification_attempts where company_id = ${companyId}`;
    assert.equal(attempts, 2, "the kept cases keep their attempts");
    const members = await sql`select user_id from public.members where company_id = ${companyId} order by 1`;
    assert.deepEqual(members.map((m) => m.user_id), ["user_59", "user_open"]);

    const [rollup] = await sql`
      select sum(cases_recovered)::int as recovered, sum(recovered_nudged)::int as nudged
      from public.daily_company_stats where company_id = ${companyId}`;
    assert.deepEqual({ ...rollup }, { recovered: 1, nudged: 1 }, "the purged recovery stays in the rollups");
    const [run] = await sql`select counts from public.retention_runs order by id desc limit 1`;
    assert.equal(typeof run.counts.events, "number", "the run is recorded with its counts");
  } finally {
    await sql`delete from public.companies where company_id = ${companyId}`;
    await sql.end();
  }
});
