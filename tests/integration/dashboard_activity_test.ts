// The activity page: the company's audit log in words, newest first, keyset-paginated, and only
// the company's own entries.
import assert from "node:assert/strict";
import { memberColumns } from "../../supabase/functions/_shared/crypto/member_columns.ts";
import { loadKeyRing } from "../../supabase/functions/_shared/crypto/pii.ts";
import { createApp } from "../../web/app.ts";
import { grantAccess, userToken } from "../support/dashboard.ts";
import { connectAsOwner, dashboardEnv, stackVar } from "../support/stack.ts";

type Sql = ReturnType<typeof connectAsOwner>;
const ORIGIN = "http://dashboard.test";

async function withActivityPage(
  fn: (ctx: {
    sql: Sql;
    companyId: string;
    userId: string;
    otherCompanyId: string;
    get: (query?: string) => Promise<{ status: number; html: string }>;
  }) => Promise<void>,
) {
  const sql = connectAsOwner();
  const { app, close } = await createApp(dashboardEnv());
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  const companyId = `biz_act${suffix}`;
  const otherCompanyId = `biz_actother${suffix}`;
  const userId = `user_act_${suffix}`;
  for (const id of [companyId, otherCompanyId]) {
    await sql`insert into public.companies (company_id, title) values (${id}, 'Activity Co')`;
  }
  await grantAccess(userId, companyId);
  const token = await userToken(userId);
  try {
    await fn({
      sql,
      companyId,
      userId,
      otherCompanyId,
      get: async (query = "") => {
        const response = await app.fetch(
          new Request(`${ORIGIN}/dashboard/${companyId}/activity${query}`, {
            headers: { "x-whop-user-token": token, accept: "text/html" },
          }),
        );
        return { status: response.status, html: await response.text() };
      },
    });
  } finally {
    await sql`delete from public.companies where company_id in (${companyId}, ${otherCompanyId})`;
    await sql.end();
    await close();
  }
}

/** The entries of a page, as "actor sentence" text, in page order. */
function entries(html: string): string[] {
  return [...html.matchAll(/<p class="activity-sentence">([\s\S]*?)<\/p>/g)]
    .map((match) => match[1].replace(/<[^>]+>/g, "").replace(/\s+/g, " ").trim());
}

function pageLinks(html: string) {
  const href = (rel: string) =>
    html.match(new RegExp(`<a class="button" href="([^"]+)" rel="${rel}"`))?.[1]?.replaceAll("&amp;", "&") ??
      null;
  const query = (url: string | null) => (url === null ? null : url.slice(url.indexOf("?")));
  return { newer: query(href("prev")), older: query(href("next")) };
}

Deno.test("activity: a company without entries sees a helpful empty state", async () => {
  await withActivityPage(async ({ get }) => {
    const { status, html } = await get();
    assert.equal(status, 200);
    assert.match(html, /<h1>Activity<\/h1>/);
    assert.match(html, /No activity yet/);
    assert.doesNotMatch(html, /class="pagination"/);
  });
});

Deno.test("activity: entries read as sentences with a compact before → after", async () => {
  await withActivityPage(async ({ sql, companyId, userId, otherCompanyId, get }) => {
    const caseId = "3f2b8c1e-0000-4000-8000-000000000001";
    // The case the entries are about, and its member, so the log can name them.
    const m = memberColumns(await loadKeyRing(stackVar("ENCRYPTION_KEYS")), companyId, "user_ann", {
      name: "Ann Example",
    });
    await sql`insert into public.members (company_id, user_id, name_ciphertext, last_event_at)
              values (${companyId}, 'user_ann', ${m.name_ciphertext}, now())`;
    await sql`insert into public.recovery_cases (id, company_id, membership_id, user_id, reason, status, opened_at, closed_at)
              values (${caseId}, ${companyId}, 'mem_ann', 'user_ann', 'payment_failed', 'dismissed',
                      now() - interval '1 day', now() - interval '3 hours')`;
    await sql`
      insert into public.audit_log (company_id, actor, action, target_type, target_id, before, after, created_at)
      values
        (${companyId}, 'user_other_admin', 'case.dismiss', 'recovery_case', ${caseId},
         '{"status": "open"}', '{"status": "dismissed"}', now() - interval '3 hours'),
        (${companyId}, 'user_other_admin', 'case.nudge', 'recovery_case', ${caseId},
         null, '{"channel": "dm", "job_id": 7}', now() - interval '2 hours'),
        (${companyId}, 'user_other_admin', 'membership.cancel_at_period_end', 'recovery_case', ${caseId},
         null, '{"membership_id": "mem_ann"}', now() - interval '90 minutes'),
        (${companyId}, 'cli:operator', 'case.dismiss', 'recovery_case', 'not-a-case-id',
         null, '{"status": "dismissed"}', now() - interval '4 hours'),
        (${companyId}, ${userId}, 'settings.update', 'company_settings', ${companyId},
         ${sql.json({ send_hour: 10, nudges_paused: false, templates: {} })},
         ${
      sql.json({
        send_hour: 9,
        nudges_paused: true,
        templates: { dm: { "0": { content: "Hi {first_name}" } } },
      })
    },
         now() - interval '1 hour'),
        (${otherCompanyId}, 'user_intruder', 'settings.update', 'company_settings', ${otherCompanyId},
         '{"send_hour": 1}', '{"send_hour": 2}', now())`;
    const { status, html } = await get();
    assert.equal(status, 200);
    assert.deepEqual(entries(html), [
      "You changed settings: send hour, nudges, nudge 1 direct message",
      "Another admin asked Whop to cancel the membership at the end of its billing period, for the case of Ann Example",
      "Another admin sent a manual direct message nudge for the case of Ann Example",
      "Another admin dismissed the case of Ann Example",
      "Churn Saver's team dismissed a case",
    ]);
    assert.match(
      html,
      /<span class="actor" title="user_other_admin">Another admin<\/span>/,
      "the id on hover",
    );
    assert.ok(html.includes(`href="/dashboard/${companyId}/cases/${caseId}"`), "links to the case");
    // As seen (the screen-reader-only words left out)...
    const text = html.replace(/<span class="sr-only">[^<]*<\/span>/g, "").replace(/<[^>]+>/g, "")
      .replace(/\s+/g, " ");
    assert.ok(text.includes("send hour: 10:00 → 09:00"), text);
    assert.ok(text.includes("nudges: running → paused"));
    assert.ok(text.includes("nudge 1 direct message: default → “Hi {first_name}”"));
    assert.ok(text.includes("status: Open → Dismissed"), text);
    // ...and as heard.
    assert.ok(
      html.replace(/<span aria-hidden="true">[^<]*<\/span>/g, "").replace(/<[^>]+>/g, "")
        .includes("send hour: 10:00 changed to 09:00"),
    );
    assert.doesNotMatch(html, /user_intruder/);
    assert.match(html, /<time datetime="\d{4}-\d\d-\d\dT/);
  });
});

Deno.test("activity: 50 per page, newest first, keyset pages that neither skip nor repeat", async () => {
  await withActivityPage(async ({ sql, companyId, get }) => {
    // 120 entries; 40 of them share one timestamp, so the id has to break ties.
    await sql`
      insert into public.audit_log (company_id, actor, action, created_at)
      select ${companyId}, 'actor_n' || n, 'test.entry',
             case when n between 41 and 80 then timestamptz '2026-01-01 12:00:00.123456+00'
                  else timestamptz '2026-01-01 00:00:00+00' + n * interval '17 minutes 0.000001 seconds' end
      from generate_series(1, 120) n`;
    const expected = (await sql<{ actor: string }[]>`
      select actor from public.audit_log where company_id = ${companyId} order by created_at desc, id desc`)
      .map((row) => row.actor);

    const seen: string[] = [];
    const pages: string[][] = [];
    let query: string | null = "";
    while (query !== null) {
      const { status, html } = await get(query);
      assert.equal(status, 200);
      const page = entries(html).map((entry) => entry.split(" ")[0]);
      pages.push(page);
      seen.push(...page);
      const links = pageLinks(html);
      assert.equal(
        links.newer === null,
        pages.length === 1,
        `page ${pages.length}: a newer link after page 1`,
      );
      query = links.older;
    }
    assert.deepEqual(pages.map((page) => page.length), [50, 50, 20]);
    assert.deepEqual(seen, expected);

    // Going back from the last page gives the middle page again.
    const { html: last } = await get(
      pageLinks((await get(pageLinks((await get()).html).older!)).html).older!,
    );
    const { html: middle } = await get(pageLinks(last).newer!);
    assert.deepEqual(entries(middle).map((entry) => entry.split(" ")[0]), pages[1]);
    const { html: first } = await get(pageLinks(middle).newer!);
    assert.deepEqual(entries(first).map((entry) => entry.split(" ")[0]), pages[0]);
    assert.equal(pageLinks(first).newer, null, "the newest page has no newer link");
  });
});

Deno.test("activity: a malformed cursor answers 400 naming the problem, an exhausted one a page", async () => {
  await withActivityPage(async ({ get }) => {
    const malformed = [
      "older%3A'%3Bdrop",
      "older%3A9999999999999999999.1", // microseconds beyond bigint
      "older%3A9223372036854775807.1", // a bigint, but no timestamp Postgres has
      "newer%3A1.9999999999999999999", // id beyond bigint
      "older%3A1.-1",
      "older%3A1",
      "sideways%3A1.1",
      "older%3A1.1%3A1",
      "%E2%9C%93",
      "x".repeat(5000),
    ];
    for (const page of malformed) {
      const answer = await get(`?page=${page}`);
      assert.equal(answer.status, 400, page);
      assert.match(answer.html, /This page link is broken or out of date/, page);
    }
    const newest = await get("?page=");
    assert.equal(newest.status, 200);
    assert.match(newest.html, /No activity yet/);
    const past = await get("?page=older%3A1.1");
    assert.equal(past.status, 200);
    assert.match(past.html, /No more entries here/);
    const future = await get("?page=newer%3A253402300799999999.9223372036854775807");
    assert.equal(future.status, 200, "the largest cursor accepted is one Postgres can compare");
  });
});
