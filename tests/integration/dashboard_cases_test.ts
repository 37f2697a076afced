// The cases list and the case page, in-process against the real database and the Whop sandbox:
// filters, member search (name, email or username prefixes, Whop ids), sorting, keyset pagination without gaps or repeats, the case page's
// facts and timeline, each action end to end (confirmation, effect, audit row, notice), refusal of
// cross-site POSTs, and tenant isolation (another company's case id is a 404 that shows nothing).
import assert from "node:assert/strict";
import {
  HARNESS_ORIGIN,
  linkedCaseIds,
  relLink,
  type TestCompany,
  withCaseHarness,
} from "../support/case_fixtures.ts";
import { crossSiteAttempts } from "../support/dashboard.ts";
import { sandboxControl } from "../support/stack.ts";
import { encodeCursor } from "../../web/queries/case_filters.ts";
import { encodeBase64Url } from "../../supabase/functions/_shared/crypto/encoding.ts";

const DAY = 86_400_000;
const at = (iso: string) => new Date(iso);

async function page(company: TestCompany, query = "") {
  const response = await company.request(`/dashboard/${company.companyId}/cases${query}`);
  return { status: response.status, html: await response.text(), headers: response.headers };
}

Deno.test("cases list: filters by status, reason and opened dates; shows member names and money per currency", async () => {
  await withCaseHarness(async ({ company }) => {
    const a = await company("cl");
    await a.addMember("user_jane", { name: "Jane Doe", email: "jane@example.com" });
    await a.addMember("user_nameless", { username: "quietfox" });
    const open = await a.addCase({
      userId: "user_jane",
      openedAt: at("2026-03-10T12:00:00Z"),
      amountMinor: 2999,
    });
    const recovered = await a.addCase({
      userId: "user_nameless",
      status: "recovered",
      attribution: "click_through",
      reason: "cancel_scheduled",
      openedAt: at("2026-03-05T08:00:00Z"),
      amountMinor: 500,
      recoveredMinor: 500,
      currency: "jpy",
    });
    const lost = await a.addCase({ status: "lost", openedAt: at("2026-02-01T00:00:00Z"), amountMinor: null });

    const all = await page(a);
    assert.equal(all.status, 200);
    assert.deepEqual(linkedCaseIds(all.html, a.companyId), [open, recovered, lost], "newest first");
    assert.match(all.html, />Jane Doe</, "the member's name");
    assert.match(all.html, /class="cases-email">jane@example\.com</, "and email");
    assert.match(all.html, />quietfox</, "the username when there is no name");
    assert.match(all.html, /\$29\.99/);
    assert.match(all.html, /¥500 recovered/);
    assert.match(all.html, /Cancellation scheduled/);
    assert.match(all.html, /Clicked the recovery link/);
    assert.match(all.html, /3 cases\./);
    assert.match(all.html, /href="\/dashboard\/[^"]+\/export\.csv"/);

    assert.deepEqual(linkedCaseIds((await page(a, "?status=open")).html, a.companyId), [open]);
    assert.deepEqual(linkedCaseIds((await page(a, "?reason=cancel_scheduled")).html, a.companyId), [
      recovered,
    ]);
    assert.deepEqual(
      linkedCaseIds((await page(a, "?from=2026-03-05&to=2026-03-09")).html, a.companyId),
      [recovered],
      "both ends of the range are whole days (UTC)",
    );
    assert.deepEqual(linkedCaseIds((await page(a, "?to=2026-03-04")).html, a.companyId), [lost]);
    const filtered = await page(a, "?status=open&from=2026-03-01");
    assert.match(filtered.html, /href="\/dashboard\/[^"]+\/export\.csv\?status=open&amp;from=2026-03-01"/);
    assert.match(filtered.html, /<option value="open" selected>/, "the form keeps the filters");

    const none = await page(a, "?status=dismissed");
    assert.equal(none.status, 200);
    assert.match(none.html, /No cases match these filters/);
  });
});

Deno.test("cases list: sorts by opened date either way and by amount, cases without an amount last", async () => {
  await withCaseHarness(async ({ company }) => {
    const a = await company("cs");
    const small = await a.addCase({ openedAt: at("2026-01-01T00:00:00Z"), amountMinor: 100 });
    const none = await a.addCase({ openedAt: at("2026-01-02T00:00:00Z"), amountMinor: null });
    const big = await a.addCase({ openedAt: at("2026-01-03T00:00:00Z"), amountMinor: 90000 });
    assert.deepEqual(linkedCaseIds((await page(a)).html, a.companyId), [big, none, small]);
    assert.deepEqual(linkedCaseIds((await page(a, "?sort=opened_asc")).html, a.companyId), [
      small,
      none,
      big,
    ]);
    assert.deepEqual(linkedCaseIds((await page(a, "?sort=amount_desc")).html, a.companyId), [
      big,
      small,
      none,
    ]);
  });
});

/** The list a search leads to: the form posts it and is sent (303) to a URL carrying it encrypted. */
async function search(company: TestCompany, q: string, form: Record<string, string> = {}) {
  const posted = await company.post(`/dashboard/${company.companyId}/cases`, { ...form, q });
  if (posted.status !== 303) return { status: posted.status, html: await posted.text(), location: null };
  await posted.body?.cancel();
  const location = posted.headers.get("location")!;
  const list = await company.request(location);
  return { status: list.status, html: await list.text(), location };
}

Deno.test("cases list: search by name, email or username prefix and Whop id, never another company's member", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("ce");
    const b = await company("ce");
    await a.addMember("user_1", { name: "Ann Élise Example", email: "Ann.Member@Example.com" });
    await a.addMember("user_2", { name: "Bob Example", email: "bob@example.com", username: "bobcat" });
    await a.addMember("user_3", { username: "annika_x" });
    await b.addMember("user_1", { name: "Ann Other", email: "ann.member@example.com" });
    const annFirst = await a.addCase({
      userId: "user_1",
      openedAt: at("2026-01-01T00:00:00Z"),
      status: "lost",
    });
    const annSecond = await a.addCase({ userId: "user_1", openedAt: at("2026-02-01T00:00:00Z") });
    const bob = await a.addCase({ userId: "user_2", openedAt: at("2026-01-15T00:00:00Z") });
    const annika = await a.addCase({ userId: "user_3", openedAt: at("2026-01-10T00:00:00Z") });
    await b.addCase({ userId: "user_1" });

    const expectations: Array<[string, string[]]> = [
      ["ann", [annSecond, annika, annFirst]], // a name word, a username word
      ["  ANN ", [annSecond, annika, annFirst]],
      ["ann exa", [annSecond, annFirst]], // every word must match
      ["elise", [annSecond, annFirst]], // accents do not matter
      ["ann.mem", [annSecond, annFirst]], // an email prefix
      ["  ANN.member@example.COM ", [annSecond, annFirst]], // a whole email, any case
      ["bobc", [bob]], // a username prefix
      ["example", [annSecond, bob, annFirst]],
      ["user_2", [bob]], // a Whop user id
      ["nobody@example.com", []],
      ["zed", []],
    ];
    for (const [q, expected] of expectations) {
      const found = await search(a, q);
      assert.equal(found.status, 200, q);
      assert.deepEqual(linkedCaseIds(found.html, a.companyId), expected, q);
      // The search never appears in the URL it leads to or any link the page builds.
      for (const url of [found.location!, ...hrefs(found.html)]) assertNoSearchIn(url, q);
    }
    const found = await search(a, "ann.member@example.com", { status: "open" });
    assert.deepEqual(linkedCaseIds(found.html, a.companyId), [annSecond], "search and filters together");
    assert.match(found.html, /1 matching case/);
    assert.match(found.html, /value="ann\.member@example\.com"/, "the form shows the search again");
    const csv = /href="(\/dashboard\/[^"]+\/export\.csv\?[^"]*)"/.exec(found.html)?.[1].replaceAll(
      "&amp;",
      "&",
    );
    assert.ok(csv && csv.includes("e="), "the CSV link carries the search encrypted");
    assert.equal(
      (await page(b, found.location!.slice(found.location!.indexOf("?")))).status,
      400,
      "and only for the company it was made for",
    );

    // The membership id of a case finds it too.
    const [membership] = await sql<{ membership_id: string }[]>`
      select membership_id from public.recovery_cases where id = ${bob}`;
    assert.deepEqual(linkedCaseIds((await search(a, membership.membership_id)).html, a.companyId), [bob]);

    // An old bookmark with the search in clear is moved out of the URL.
    const legacy = await a.request(
      `/dashboard/${a.companyId}/cases?q=${encodeURIComponent("ann.member@example.com")}`,
    );
    assert.equal(legacy.status, 303);
    await legacy.body?.cancel();
    const moved = legacy.headers.get("location")!;
    assert.ok(!moved.includes("ann") && moved.includes("e="), moved);
    assert.deepEqual(linkedCaseIds((await page(a, moved.slice(moved.indexOf("?")))).html, a.companyId), [
      annSecond,
      annFirst,
    ]);

    const bad = await search(a, "@@@");
    assert.equal(bad.status, 400);
    assert.match(bad.html, /Type part of a member's name/);
    assert.match((await search(a, "a b c d e f g")).html, /up to 6 words/);
  });
});

/** No `q`; the search only as `e`, an encrypted envelope; no word of it anywhere else in the URL. */
function assertNoSearchIn(url: string, q: string) {
  const parsed = new URL(url, "http://dashboard");
  assert.ok(!parsed.searchParams.has("q"), url);
  const e = parsed.searchParams.get("e");
  if (e !== null) assert.match(e, /^v1\.[^.]+\.[^.]+\.[^.]+$/, url);
  parsed.searchParams.delete("e");
  parsed.searchParams.delete("cursor");
  const rest = decodeURIComponent(parsed.pathname + parsed.search).toLowerCase();
  for (const word of q.trim().toLowerCase().split(/[^a-z0-9_]+/).filter((w) => w.length > 2)) {
    assert.ok(!rest.includes(word), `${q}: ${url}`);
  }
}

function hrefs(html: string): string[] {
  return [...html.matchAll(/(?:href|action)="([^"]*)"/g)].map((match) => match[1].replaceAll("&amp;", "&"));
}

Deno.test("cases list: keyset pages of 50 cover every case once, forwards and back, in every sort", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("cp");
    // 130 cases, many sharing one opened_at (ties broken by id) and one amount.
    const start = Date.parse("2026-04-01T00:00:00Z");
    await sql`
      insert into public.recovery_cases (company_id, membership_id, reason, opened_at, amount_at_risk_minor, currency)
      select ${a.companyId}, 'mem_page_' || n, 'payment_failed',
             ${new Date(
      start,
    )}::timestamptz + ((n % 40) * interval '1 minute') + (n * interval '1 microsecond') * (n % 2),
             case when n % 5 = 0 then null else (n % 7) * 1000 end, 'usd'
      from generate_series(1, 130) n`;
    const expected = (await sql<{ id: string }[]>`
      select id from public.recovery_cases where company_id = ${a.companyId}`).map((row) => row.id).sort();

    for (const sort of ["opened_desc", "opened_asc", "amount_desc"]) {
      const seen: string[] = [];
      const pages: string[][] = [];
      let query: string | null = `?sort=${sort}`;
      while (query) {
        const current = await page(a, query);
        assert.equal(current.status, 200, `${sort}: ${query}`);
        const ids = linkedCaseIds(current.html, a.companyId);
        pages.push(ids);
        seen.push(...ids);
        const next = relLink(current.html, "next");
        query = next ? next.slice(next.indexOf("?")) : null;
      }
      assert.deepEqual(pages.map((ids) => ids.length), [50, 50, 30], sort);
      assert.equal(new Set(seen).size, seen.length, `${sort}: no case twice`);
      assert.deepEqual([...seen].sort(), expected, `${sort}: no case missing`);

      // Back from the last page gives exactly the middle page again, then the first.
      let last = await page(a, `?sort=${sort}`);
      for (let i = 0; i < 2; i++) {
        const next = relLink(last.html, "next")!;
        last = await page(a, next.slice(next.indexOf("?")));
      }
      const previous = relLink(last.html, "prev")!;
      const middle = await page(a, previous.slice(previous.indexOf("?")));
      assert.deepEqual(linkedCaseIds(middle.html, a.companyId), pages[1], `${sort}: previous page`);
      const firstAgain = relLink(middle.html, "prev")!;
      const first = await page(a, firstAgain.slice(firstAgain.indexOf("?")));
      assert.deepEqual(linkedCaseIds(first.html, a.companyId), pages[0]);
      assert.equal(relLink(first.html, "prev"), null, "nothing before the first page");
    }
    assert.match((await page(a)).html, /130 cases/);
  });
});

Deno.test("cases list: each bad parameter answers 400 naming it, never 500", async () => {
  await withCaseHarness(async ({ company }) => {
    const a = await company("cb");
    await a.addCase();
    const cases: Array<[string, RegExp]> = [
      ["?status=closed", /Choose a status/],
      ["?reason=bored", /Choose a reason/],
      ["?from=2026-02-30", /start date as YYYY-MM-DD/],
      ["?to=yesterday", /end date as YYYY-MM-DD/],
      ["?from=2026-03-02&to=2026-03-01", /end date is before the start date/],
      ["?sort=random", /Choose a sort order/],
      ["?cursor=not-a-cursor", /page link is broken/],
      ["?cursor=%E2%9C%93", /page link is broken/],
      [`?q=${"a".repeat(400)}%40example.com`, /up to 320 characters/],
      ["?e=v1.k1.bad.bad", /search link is not valid/],
    ];
    for (const [query, message] of cases) {
      const answer = await page(a, query);
      assert.equal(answer.status, 400, query);
      assert.match(answer.html, message, query);
      assert.match(answer.html, /aria-invalid="true"|page link is broken/, `${query}: the field is marked`);
    }
    // A cursor made for another sort order would skip rows: refused too.
    const cursor = encodeCursor("opened_desc", {
      direction: "after",
      key: "2026-01-01T00:00:00.000000Z",
      id: crypto.randomUUID(),
    });
    assert.equal((await page(a, `?cursor=${cursor}`)).status, 200);
    const mixed = await page(a, `?sort=amount_desc&cursor=${cursor}`);
    assert.equal(mixed.status, 400);
    assert.match(mixed.html, /page link is broken/);
  });
});

Deno.test("cases list: crafted page cursors answer 400 with a clear message, never 500", async () => {
  await withCaseHarness(async ({ company }) => {
    const a = await company("cc");
    await a.addCase();
    const id = crypto.randomUUID();
    const raw = (value: unknown) => encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)));
    const crafted: Array<[string, string]> = [
      [
        "a month, day and time that do not exist",
        raw(["opened_desc", "a", "9999-99-99T99:99:99.999999Z", id]),
      ],
      ["February 30th", raw(["opened_desc", "a", "2026-02-30T00:00:00.000000Z", id])],
      ["hour 24", raw(["opened_desc", "a", "2026-01-01T24:00:00.000000Z", id])],
      ["second 60", raw(["opened_desc", "b", "2026-01-01T00:00:60.000000Z", id])],
      ["year 0", raw(["opened_desc", "a", "0000-01-01T00:00:00.000000Z", id])],
      ["an amount beyond bigint", raw(["amount_desc", "a", "9999999999999999999", id])],
      ["a negative amount beyond bigint", raw(["amount_desc", "a", "-9999999999999999999", id])],
      ["a fractional amount", raw(["amount_desc", "a", "1.5", id])],
      ["an empty key", raw(["opened_desc", "a", "", id])],
      ["a key that is a number", raw(["opened_desc", "a", 1, id])],
      ["an id that is no uuid", raw(["opened_desc", "a", "2026-01-01T00:00:00.000000Z", "1"])],
      ["an unknown direction", raw(["opened_desc", "x", "2026-01-01T00:00:00.000000Z", id])],
      ["three parts", raw(["opened_desc", "a", "2026-01-01T00:00:00.000000Z"])],
      ["an object", raw({ sort: "opened_desc" })],
      ["JSON null", raw(null)],
      ["base64 of no JSON", encodeBase64Url(new TextEncoder().encode("older:9999999999999999999.1"))],
      ["the activity page's cursor", "older:9999999999999999999.1"],
      ["bytes that are no UTF-8", encodeBase64Url(new Uint8Array([0xff, 0xfe, 0x00]))],
      ["too long", "A".repeat(5000)],
      ["empty", ""],
    ];
    for (const [name, cursor] of crafted) {
      const sort = name.includes("amount") ? "&sort=amount_desc" : "";
      const answer = await page(a, `?cursor=${encodeURIComponent(cursor)}${sort}`);
      assert.equal(answer.status, 400, name);
      assert.match(answer.html, /This page link is broken or out of date/, name);
    }
    // The extremes Postgres accepts are still cursors.
    const edges: Array<[string, string]> = [
      ["opened_desc", raw(["opened_desc", "a", "9999-12-31T23:59:59.999999Z", id])],
      ["opened_asc", raw(["opened_asc", "b", "0001-01-01T00:00:00.000000Z", id])],
      ["amount_desc", raw(["amount_desc", "a", "9223372036854775807", id])],
      ["amount_desc", raw(["amount_desc", "b", "-9223372036854775808", id])],
    ];
    for (const [sort, cursor] of edges) {
      const answer = await page(a, `?sort=${sort}&cursor=${cursor}`);
      assert.equal(answer.status, 200, `${sort} ${cursor}`);
    }
  });
});

Deno.test("cases list: a company without cases gets a helpful empty state", async () => {
  await withCaseHarness(async ({ company }) => {
    const a = await company("cn");
    const empty = await page(a);
    assert.equal(empty.status, 200);
    assert.match(empty.html, /No recovery cases yet/);
    assert.doesNotMatch(empty.html, /rel="next"/);
  });
});

async function caseFixture(sql: CaseHarnessSql, company: TestCompany) {
  await company.addMember("user_case", {
    name: "Priya Plaintext",
    email: "priya.member@example.com",
    username: "priya_p",
  });
  const openedAt = new Date(Date.now() - 3 * DAY);
  const membershipId = `mem_case_${company.companyId.slice(4)}`;
  const caseId = await company.addCase({ userId: "user_case", membershipId, openedAt, amountMinor: 4900 });
  const event = (id: string, type: string, occurredAt: Date, amount: number | null) =>
    sql`insert into public.events (id, company_id, type, raw_type, api_version, membership_id, user_id, amount_minor,
                                   currency, occurred_at)
        values (${`${id}_${company.companyId}`}, ${company.companyId}, ${type}, ${type}, 'v1', ${membershipId},
                'user_case', ${amount}, ${amount === null ? null : "usd"}, ${occurredAt})`;
  await event("msg_failed", "payment.failed", openedAt, 4900);
  await event("msg_retry", "payment.failed", new Date(openedAt.getTime() + DAY), 4900);
  await event("msg_ancient", "payment.succeeded", new Date(openedAt.getTime() - 10 * DAY), 4900);
  const [sent, failed, pending] = await sql<{ id: string }[]>`
    insert into public.job_queue (case_id, company_id, channel, step, status, scheduled_for, sent_at, attempts, last_error)
    values (${caseId}, ${company.companyId}, 'push', 0, 'sent', ${openedAt}, ${openedAt}, 1, null),
           (${caseId}, ${company.companyId}, 'dm', 1, 'failed', ${new Date(
    openedAt.getTime() + 2 * DAY,
  )}, null, 2,
            'user has DMs disabled'),
           (${caseId}, ${company.companyId}, 'push', 2, 'pending', ${new Date(
    Date.now() + DAY,
  )}, null, 0, null)
    returning id::text`;
  await sql`
    insert into public.notification_attempts (job_id, company_id, status, http_status, latency_ms, error, created_at)
    values (${sent.id}, ${company.companyId}, 'sent', 200, 120, null, ${openedAt}),
           (${failed.id}, ${company.companyId}, 'retry', 503, 900, 'Whop is having a moment',
            ${new Date(openedAt.getTime() + 2 * DAY)}),
           (${failed.id}, ${company.companyId}, 'failed', 403, 80, 'user has DMs disabled',
            ${new Date(openedAt.getTime() + 2 * DAY + 60_000)})`;
  await sql`
    insert into public.link_clicks (company_id, case_id, job_id, clicked_at, is_bot)
    values (${company.companyId}, ${caseId}, ${sent.id}, ${new Date(openedAt.getTime() + 3_600_000)}, false),
           (${company.companyId}, ${caseId}, ${sent.id}, ${new Date(openedAt.getTime() + 60_000)}, true)`;
  return { caseId, membershipId, jobs: { sent: sent.id, failed: failed.id, pending: pending.id } };
}

type CaseHarnessSql = Parameters<Parameters<typeof withCaseHarness>[0]>[0]["sql"];

Deno.test("case page: facts, decrypted member, timeline of events, nudge attempts and clicks, nudge details", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("cd");
    const { caseId, membershipId } = await caseFixture(sql, a);
    const response = await a.request(`/dashboard/${a.companyId}/cases/${caseId}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "no-store");
    const html = await response.text();

    assert.match(html, /<h1>Priya Plaintext<\/h1>/);
    assert.match(html, /priya\.member@example\.com/);
    assert.match(html, /priya_p/);
    assert.match(html, new RegExp(membershipId));
    assert.match(html, /\$49\.00/);
    assert.match(html, /Payment failed/);

    // Timeline: both failures (inside the window), not the success 10 days before the case.
    const timeline = html.slice(
      html.indexOf('id="case-timeline-heading"'),
      html.indexOf('id="case-nudges-heading"'),
    );
    assert.equal(timeline.match(/Payment failed<\/span><span class="cases-tl-detail">\$49\.00/g)?.length, 2);
    assert.doesNotMatch(timeline, /Payment succeeded/);
    assert.match(timeline, /Case opened/);
    assert.match(timeline, /Nudge 1 \(push notification\): delivered/);
    assert.match(timeline, /Nudge 2 \(direct message\): will retry.*Whop had a temporary problem\./s);
    assert.match(timeline, /Nudge 2 \(direct message\): failed.*Whop refused/s);
    assert.doesNotMatch(
      timeline,
      /Whop is having a moment/,
      "Whop's own text only on hover, in the nudges table",
    );
    assert.match(timeline, /Recovery link clicked/);
    assert.match(timeline, /Link opened by a bot or link preview/);
    // Oldest first: the bot preview (1 minute after opening) before the member's click (1 hour after).
    assert.ok(timeline.indexOf("bot or link preview") < timeline.indexOf("Recovery link clicked"));

    const nudges = html.slice(html.indexOf('id="case-nudges-heading"'));
    assert.match(nudges, /Nudge 3/);
    assert.match(nudges, /Scheduled/);
    assert.match(nudges, /Delivered/);
    assert.match(
      nudges,
      /title="user has DMs disabled">Whop refused to deliver it: the member may have turned off messages/,
    );

    assert.match(html, /actions\/nudge"/);
    assert.match(html, /actions\/dismiss"/);
    assert.match(html, /actions\/cancel-membership"/);
  });
});

Deno.test("IDOR: another company's case id under this company's URL is a 404 that shows nothing of it", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("ia");
    const b = await company("ib");
    const { caseId: theirs, membershipId } = await caseFixture(sql, b);
    const jobsBefore = await sql`select count(*)::int as n from public.job_queue where case_id = ${theirs}`;

    const probes = [
      a.request(`/dashboard/${a.companyId}/cases/${theirs}`),
      a.request(`/dashboard/${a.companyId}/cases/${theirs}/actions/dismiss`),
      a.request(`/dashboard/${a.companyId}/cases/${theirs}/actions/nudge`),
      a.request(`/dashboard/${a.companyId}/cases/${theirs}/actions/cancel-membership`),
      a.post(`/dashboard/${a.companyId}/cases/${theirs}/actions/dismiss`),
      a.post(`/dashboard/${a.companyId}/cases/${theirs}/actions/nudge`, { channel: "dm" }),
      a.post(`/dashboard/${a.companyId}/cases/${theirs}/actions/cancel-membership`),
      a.request(`/dashboard/${a.companyId}/cases/not-a-uuid`),
      a.request(`/dashboard/${a.companyId}/cases/${crypto.randomUUID()}`),
    ];
    for (const response of await Promise.all(probes)) {
      assert.equal(response.status, 404);
      const body = await response.text();
      for (const secret of ["Priya", "priya", membershipId, "4900", "49.00", "Whop is having", theirs]) {
        assert.ok(!body.includes(secret), `the 404 shows nothing of it (${secret})`);
      }
    }
    // And nothing happened to it.
    const [row] = await sql`select status from public.recovery_cases where id = ${theirs}`;
    assert.equal(row.status, "open");
    assert.deepEqual(
      await sql`select count(*)::int as n from public.job_queue where case_id = ${theirs}`,
      jobsBefore,
    );
    assert.equal((await sql`select 1 from public.audit_log where target_id = ${theirs}`).length, 0);
    // Its own admin sees it.
    assert.equal((await b.request(`/dashboard/${b.companyId}/cases/${theirs}`)).status, 200);
  });
});

const audit = (sql: CaseHarnessSql, caseId: string) =>
  sql<{ actor: string; action: string; after: Record<string, unknown> | null }[]>`
    select actor, action, after from public.audit_log
    where target_type = 'recovery_case' and target_id = ${caseId} order by id`;

Deno.test("dismiss: a confirmation step, then the case closes, its nudges stop, it is audited and shown", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("ad");
    const { caseId, jobs } = await caseFixture(sql, a);
    const path = `/dashboard/${a.companyId}/cases/${caseId}`;

    const confirm = await a.request(`${path}/actions/dismiss`);
    assert.equal(confirm.status, 200);
    const form = await confirm.text();
    assert.match(form, /<h1>Dismiss this case\?<\/h1>/);
    assert.match(form, new RegExp(`<form method="post" action="${path}/actions/dismiss">`));
    assert.match(form, /<button type="submit" class="button danger">Dismiss case<\/button>/);
    assert.equal(
      (await sql`select status from public.recovery_cases where id = ${caseId}`)[0].status,
      "open",
    );

    const done = await a.post(`${path}/actions/dismiss`);
    assert.equal(done.status, 303);
    assert.equal(done.headers.get("location"), `${path}?notice=dismissed`);
    const [row] = await sql`select status, closed_at from public.recovery_cases where id = ${caseId}`;
    assert.equal(row.status, "dismissed");
    assert.ok(row.closed_at);
    const [pending] = await sql`select status from public.job_queue where id = ${jobs.pending}`;
    assert.equal(pending.status, "cancelled");
    const entries = await audit(sql, caseId);
    assert.deepEqual(entries.map((entry) => [entry.actor, entry.action]), [[a.userId, "case.dismiss"]]);

    const after = await (await a.request(`${path}?notice=dismissed`)).text();
    assert.match(
      after,
      /role="status" aria-live="polite">Case dismissed\. Its pending nudges were cancelled\./,
    );
    assert.match(after, /badge badge-dismissed/);
    assert.match(after, /Case dismissed<\/span><span class="cases-tl-detail">By you/);
    assert.doesNotMatch(after, /actions\/dismiss"/, "no more actions on a closed case");

    // Twice is harmless: the case is closed, nothing changes, and the page says so.
    const again = await a.post(`${path}/actions/dismiss`);
    assert.equal(again.headers.get("location"), `${path}?notice=not_open`);
    assert.equal((await audit(sql, caseId)).length, 1);
    const confirmClosed = await a.request(`${path}/actions/dismiss`);
    assert.equal(confirmClosed.status, 303);
    assert.match(
      await (await a.request(`${path}?notice=not_open`)).text(),
      /role="alert">This case is closed now/,
    );
  });
});

Deno.test("nudge now: choose push or DM, confirm, and a manual job is queued and audited", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("an");
    const { caseId } = await caseFixture(sql, a);
    const path = `/dashboard/${a.companyId}/cases/${caseId}`;

    const confirm = await (await a.request(`${path}/actions/nudge`)).text();
    assert.match(confirm, /<h1>Nudge this member now\?<\/h1>/);
    assert.match(confirm, /<legend>Send it as<\/legend>/);
    assert.match(confirm, /type="radio" name="channel" value="push" checked/);
    assert.match(confirm, /type="radio" name="channel" value="dm"/);

    const refused = await a.post(`${path}/actions/nudge`, { channel: "sms" });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /push notification or direct message/);

    const done = await a.post(`${path}/actions/nudge`, { channel: "dm" });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get("location"), `${path}?notice=nudge_dm`);
    const manual = await sql`
      select channel, status, origin, scheduled_for <= now() as due from public.job_queue
      where case_id = ${caseId} and origin = 'manual'`;
    assert.deepEqual(manual.map((job) => ({ ...job })), [{
      channel: "dm",
      status: "pending",
      origin: "manual",
      due: true,
    }]);
    const entries = await audit(sql, caseId);
    assert.deepEqual(entries.map((entry) => [entry.actor, entry.action, entry.after?.channel]), [
      [a.userId, "case.nudge", "dm"],
    ]);

    const after = await (await a.request(`${path}?notice=nudge_dm`)).text();
    assert.match(after, /Nudge queued: a direct message goes out/);
    assert.match(after, /Nudge sent from the dashboard by direct message/);
    assert.match(after, /Manual nudge/);

    // With push turned off in Settings, the confirmation says so and offers a DM first.
    await sql`update public.company_settings set push_enabled = false where company_id = ${a.companyId}`;
    const pushOff = await (await a.request(`${path}/actions/nudge`)).text();
    assert.match(pushOff, /type="radio" name="channel" value="dm" checked/);
    assert.match(
      pushOff,
      /Push notifications are turned off in Settings, so a nudge sent that way would be skipped/,
    );

    await sql`update public.recovery_cases set status = 'lost', closed_at = now() where id = ${caseId}`;
    const closed = await a.post(`${path}/actions/nudge`, { channel: "push" });
    assert.equal(closed.headers.get("location"), `${path}?notice=not_open`);
    assert.equal(
      (await sql`select 1 from public.job_queue where case_id = ${caseId} and origin = 'manual'`).length,
      1,
    );
  });
});

Deno.test("cancel membership at period end: Whop is called once, the change is audited and shown", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("ac");
    const { caseId, membershipId } = await caseFixture(sql, a);
    const path = `/dashboard/${a.companyId}/cases/${caseId}`;
    const cancelPath = `/api/v1/memberships/${membershipId}/cancel`;
    await sandboxControl("POST", "/fixtures", {
      memberships: [{ id: membershipId, user_id: "user_case", company_id: a.companyId, status: "past_due" }],
    });

    const confirm = await (await a.request(`${path}/actions/cancel-membership`)).text();
    assert.match(confirm, /<h1>Cancel this membership at the end of its period\?<\/h1>/);
    const requestId = /name="request_id" value="([0-9a-f-]{36})"/.exec(confirm)?.[1];
    assert.ok(requestId, "the confirmation carries its own request id");
    assert.equal((await sandboxControl("GET", `/calls?path=${cancelPath}`)).calls.length, 0);

    // Whop failing: a clear notice, nothing recorded.
    await sandboxControl("POST", "/faults", { method: "POST", path: cancelPath, status: 503, times: 1 });
    const failed = await a.post(`${path}/actions/cancel-membership`, { request_id: requestId });
    assert.equal(failed.headers.get("location"), `${path}?notice=whop_unavailable`);
    assert.equal((await audit(sql, caseId)).length, 0);
    const failedPage = await (await a.request(`${path}?notice=whop_unavailable`)).text();
    assert.match(
      failedPage,
      /role="alert">Whop did not answer just now, so the membership was not cancelled/,
    );
    assert.match(failedPage, /actions\/cancel-membership"/, "still offered");

    const done = await a.post(`${path}/actions/cancel-membership`, { request_id: requestId });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get("location"), `${path}?notice=cancel_requested`);
    const calls = (await sandboxControl("GET", `/calls?path=${cancelPath}`)).calls;
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1].body, { cancellation_mode: "at_period_end" });
    assert.equal(calls[1].status, 200);
    assert.equal(calls[1].idempotency_key, `churn-saver:cancel-at-period-end:${caseId}:${requestId}`);
    const membership = (await sandboxControl("GET", "/state")).memberships
      .find((m: { id: string }) => m.id === membershipId);
    assert.equal(membership.cancel_at_period_end, true);
    const entries = await audit(sql, caseId);
    assert.deepEqual(entries.map((entry) => [entry.actor, entry.action, entry.after]), [
      [a.userId, "membership.cancel_at_period_end", {
        membership_id: membershipId,
        cancellation_mode: "at_period_end",
      }],
    ]);

    const after = await (await a.request(`${path}?notice=cancel_requested`)).text();
    assert.match(after, /Whop will cancel this membership when its current billing period ends/);
    assert.match(after, /Membership set to cancel at period end/);
    assert.doesNotMatch(after, /actions\/cancel-membership"/, "not offered twice");
    const twice = await a.post(`${path}/actions/cancel-membership`, { request_id: requestId });
    assert.equal(twice.headers.get("location"), `${path}?notice=cancel_already`);
    assert.equal((await sandboxControl("GET", `/calls?path=${cancelPath}`)).calls.length, 2);

    // A member who scheduled the cancellation themselves has nothing to cancel.
    const scheduled = await a.addCase({ reason: "cancel_scheduled" });
    const notApplicable = await a.request(
      `/dashboard/${a.companyId}/cases/${scheduled}/actions/cancel-membership`,
    );
    assert.equal(notApplicable.status, 303);
    assert.match(notApplicable.headers.get("location") ?? "", /notice=cancel_not_applicable$/);
  });
});

Deno.test("cancel membership: Whop refusing or not knowing the membership records nothing", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("ar");
    const caseId = await a.addCase({ membershipId: `mem_unknown_${crypto.randomUUID().slice(0, 8)}` });
    const path = `/dashboard/${a.companyId}/cases/${caseId}`;
    const missing = await a.post(`${path}/actions/cancel-membership`);
    assert.equal(missing.headers.get("location"), `${path}?notice=whop_missing`);

    const known = `mem_known_${crypto.randomUUID().slice(0, 8)}`;
    await sandboxControl("POST", "/fixtures", {
      memberships: [{ id: known, user_id: "user_x", company_id: a.companyId, status: "past_due" }],
    });
    const other = await a.addCase({ membershipId: known });
    await sandboxControl("POST", "/faults", {
      method: "POST",
      path: `/api/v1/memberships/${known}/cancel`,
      status: 422,
      times: 1,
    });
    const refused = await a.post(`/dashboard/${a.companyId}/cases/${other}/actions/cancel-membership`);
    assert.match(refused.headers.get("location") ?? "", /notice=whop_refused$/);
    assert.equal((await sql`select 1 from public.audit_log where company_id = ${a.companyId}`).length, 0);
  });
});

Deno.test("actions refuse cross-site POSTs (Sec-Fetch-Site, Origin) and change nothing", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("ax");
    const caseId = await a.addCase();
    const path = `/dashboard/${a.companyId}/cases/${caseId}/actions/dismiss`;
    // The same table as the settings form's (tests/integration/dashboard_cross_site_test.ts runs both).
    for (const [name, headers] of crossSiteAttempts(HARNESS_ORIGIN)) {
      const response = await a.post(path, {}, headers);
      assert.equal(response.status, 403, name);
      assert.match(await response.text(), /This request was refused/, name);
    }
    assert.equal(
      (await sql`select status from public.recovery_cases where id = ${caseId}`)[0].status,
      "open",
    );
    assert.equal((await audit(sql, caseId)).length, 0);

    // A client that sends neither header (not a browser) is let through.
    const plain = await a.request(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    assert.equal(plain.status, 303);
    assert.equal(
      (await sql`select status from public.recovery_cases where id = ${caseId}`)[0].status,
      "dismissed",
    );
  });
});
