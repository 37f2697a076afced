// scripts/dev.sh as a developer runs it, on its own ports and state directory: it brings up all
// four parts with demo data, stops everything on Ctrl-C, and a second run reuses the cluster.
import assert from "node:assert/strict";
import postgres from "postgres";
import { devSandbox, DevScript, portOpen } from "../support/dev_script.ts";

Deno.test({
  name: "scripts/dev.sh starts the whole stack with demo data, stops on Ctrl-C, and reuses its cluster",
  sanitizeResources: false,
  async fn() {
    const { env, ports, localDir, dbUrl, remove } = await devSandbox();
    let dev: DevScript | undefined;
    let failed = false;
    try {
      dev = new DevScript(env);
      await dev.waitFor("local stack is up", 150_000);
      assert.match(dev.output, /Creating the dev Postgres cluster/);
      assert.match(dev.output, new RegExp(`http://127\\.0\\.0\\.1:${ports.DASHBOARD_PORT}/dev/login`));

      for (
        const url of [
          `http://127.0.0.1:${ports.DASHBOARD_PORT}/api/health`,
          `http://127.0.0.1:${ports.FUNCTIONS_PORT}/functions/v1/whop-webhook/health`,
          `http://127.0.0.1:${ports.FUNCTIONS_PORT}/functions/v1/dispatch-notifications/health`,
          `http://127.0.0.1:${ports.WHOP_SANDBOX_PORT}/_sandbox/health`,
        ]
      ) {
        const response = await fetch(url);
        await response.body?.cancel();
        assert.equal(response.status, 200, url);
      }
      const login = await (await fetch(`http://127.0.0.1:${ports.DASHBOARD_PORT}/dev/login`)).text();
      assert.match(login, /Demo Academy/);

      const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
      try {
        const jobs = await sql`select jobname from cron.job`;
        assert.ok(jobs.some((job) => job.jobname === "churn-saver-trim-cron-history"));
        const statuses =
          await sql`select distinct status from public.recovery_cases where company_id = 'biz_demo'`;
        assert.deepEqual(statuses.map((row) => row.status).sort(), [
          "dismissed",
          "expired",
          "lost",
          "open",
          "recovered",
        ]);

        // The demo data is what the case engine itself makes of the demo events.
        const caseRows = () =>
          sql`select id, status, reason, attribution, opened_at, closed_at, closed_by, recovered_amount_minor
                 from public.recovery_cases order by id`;
        const seeded = await caseRows();
        await sql`select private.rebuild_membership_cases(company_id, membership_id)
                  from (select distinct company_id, membership_id from public.recovery_cases) m`;
        assert.deepEqual(await caseRows(), seeded);
        const [firstCheckout] = await sql`select count(*)::int as n from public.recovery_cases
                                          where membership_id = 'mem_demo_first_checkout'`;
        assert.equal(firstCheckout.n, 0, "a failed first checkout is no case, in the demo too");
        // Demo members have details, stored as the webhook stores them (scripts/local/demo_members.ts).
        const members = await sql`select m.user_id, m.name_ciphertext, m.email_ciphertext, m.search_tokens
                                  from public.members m join public.recovery_cases rc using (company_id, user_id)
                                  where rc.company_id = 'biz_demo'`;
        assert.ok(members.length >= 8, `${members.length} demo members`);
        assert.ok(
          members.every((m) => m.name_ciphertext && m.email_ciphertext && m.search_tokens?.length),
          "every demo case's member has a name, an email and search tokens",
        );
        const [untitled] = await sql`select count(*)::int as n from public.recovery_cases rc
          where rc.company_id = 'biz_demo' and not exists (select 1 from public.events e
            where e.membership_id = rc.membership_id and e.product_title is not null)`;
        assert.equal(untitled.n, 0, "every demo case names its product");
      } finally {
        await sql.end();
      }
      const secrets = await Deno.readTextFile(`${localDir}/env`);
      assert.match(secrets, /^WHOP_WEBHOOK_SECRET=ws_[0-9a-f]{64}$/m);

      // The sandbox holds the Whop side of the demo, behind the generated API key.
      const apiKey = secrets.match(/^WHOP_API_KEY=(.+)$/m)?.[1];
      const access = await fetch(
        `http://127.0.0.1:${ports.WHOP_SANDBOX_PORT}/api/v1/users/user_demo_admin/access/biz_demo`,
        { headers: { authorization: `Bearer ${apiKey}` } },
      );
      assert.deepEqual(await access.json(), { access_level: "admin", has_access: true });

      await dev.interrupt();
      for (const [name, port] of Object.entries(ports)) {
        assert.equal(await portOpen(port), false, `${name} ${port} is closed after Ctrl-C`);
      }

      // Second run: same cluster, same secrets, nothing new to migrate.
      dev = new DevScript(env);
      await dev.waitFor("local stack is up", 60_000);
      assert.doesNotMatch(dev.output, /Creating the dev Postgres cluster/);
      assert.match(dev.output, /up to date/i);
      assert.equal(await Deno.readTextFile(`${localDir}/env`), secrets);
      await dev.interrupt();
      assert.equal(await portOpen(ports.DB_PORT), false);
    } catch (error) {
      failed = true;
      throw new Error(`${(error as Error).message}\n--- dev.sh output ---\n${dev?.output ?? ""}`, {
        cause: error,
      });
    } finally {
      if (dev && failed) await dev.forceStop();
      await remove();
    }
  },
});
