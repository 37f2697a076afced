// The CSV export, in-process against the real database: exactly the cases of the list's filters and
// only the company's own, decrypted emails, amounts in each currency's units, RFC 4180 quoting,
// formula-injection defusing, and a streamed body that releases its connection when abandoned, when
// nobody reads it (idle timeout) and when it runs too long; exports take at most a share of the pool.
import assert from "node:assert/strict";
import { membershipEvent, paymentEvent } from "../../whop-sandbox/payloads.ts";
import { createApp } from "../../web/app.ts";
import { type OwnerSql, type TestCompany, withCaseHarness } from "../support/case_fixtures.ts";
import { isolateQueue, sandbox, withDispatchApp } from "../support/dispatch.ts";
import { dashboardEnv } from "../support/stack.ts";
import { enableEverything, signedRequest, withWebhookApp } from "../support/webhooks.ts";

/** The header row of a company in `zone`; creators' spreadsheets rely on these names and positions. */
const header = (zone: string) => [
  "Case ID",
  "Member name",
  "Email",
  "Product",
  "Status",
  "Reason",
  `Opened (${zone})`,
  `Closed (${zone})`,
  "Amount at risk",
  "Recovered amount",
  "Currency",
  "Attribution",
  "Nudges sent",
  `Last nudge (${zone})`,
  "Billing reason",
  "Failure message",
  "Cancellation reason",
  "Member's own words",
  "Membership ID",
];
const HEADER = header("UTC");
const column = (name: string) => {
  const index = HEADER.indexOf(name);
  assert.ok(index >= 0, name);
  return index;
};

/** A strict RFC 4180 reader (CRLF records, quoted fields), enough to check what a spreadsheet would see. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === "") quoted = true;
    else if (ch === ",") {
      record.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      record.push(cell);
      records.push(record);
      record = [];
      cell = "";
      i++;
    } else {
      assert.notEqual(ch, '"', "a bare quote inside an unquoted field");
      cell += ch;
    }
  }
  assert.equal(cell + record.join(""), "", "the file ends with CRLF");
  return records;
}

/** The file as a spreadsheet reads it: a 200 starts with the UTF-8 byte order mark (for Excel), which
 * decoding takes off as a spreadsheet does. */
async function download(company: TestCompany, query = "") {
  const response = await company.request(`/dashboard/${company.companyId}/export.csv${query}`, {
    headers: { accept: "text/csv,text/html" },
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (response.status === 200) {
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], "the file starts with a byte order mark");
  }
  const text = new TextDecoder().decode(bytes);
  return { status: response.status, headers: response.headers, text };
}

Deno.test("export: the filtered cases of this company only, with decrypted emails and decimal amounts", async () => {
  await withCaseHarness(async ({ company }) => {
    const a = await company("xa");
    const b = await company("xb");
    await a.addMember("user_jane", { email: "Jane.Member@example.com", name: "Jane" });
    await a.addMember("user_kim", { email: "kim@example.com" });
    await b.addMember("user_jane", { email: "jane.member@example.com" });
    const usd = await a.addCase({
      userId: "user_jane",
      membershipId: "mem_usd",
      openedAt: new Date("2026-05-03T10:00:00.123Z"),
      amountMinor: 2999,
    });
    const jpy = await a.addCase({
      userId: "user_kim",
      membershipId: "mem_jpy",
      status: "recovered",
      attribution: "nudged",
      openedAt: new Date("2026-05-02T00:00:00Z"),
      closedAt: new Date("2026-05-04T00:00:00Z"),
      amountMinor: 500,
      recoveredMinor: 500,
      currency: "jpy",
    });
    const kwd = await a.addCase({
      membershipId: "mem_kwd",
      openedAt: new Date("2026-04-01T00:00:00Z"),
      amountMinor: 1234,
      currency: "kwd",
    });
    const none = await a.addCase({
      membershipId: "mem_none",
      openedAt: new Date("2026-03-01T00:00:00Z"),
      amountMinor: null,
      currency: null,
    });
    const theirs = await b.addCase({ userId: "user_jane", membershipId: "mem_theirs" });

    const all = await download(a);
    assert.equal(all.status, 200);
    assert.equal(all.headers.get("content-type"), "text/csv; charset=utf-8");
    const today = new Date().toISOString().slice(0, 10);
    assert.equal(
      all.headers.get("content-disposition"),
      `attachment; filename="cases-${a.companyId}-${today}.csv"`,
    );
    assert.equal(all.headers.get("cache-control"), "no-store");
    const [head, ...rows] = parseCsv(all.text);
    assert.deepEqual(head, HEADER);
    assert.deepEqual(rows.map((row) => row[0]), [usd, jpy, kwd, none], "the list's order: newest first");
    assert.ok(!all.text.includes(theirs) && !all.text.includes("mem_theirs"), "nothing of another company");
    assert.deepEqual(rows[0], [
      usd,
      "Jane",
      "Jane.Member@example.com",
      "",
      "Open",
      "Payment failed",
      "2026-05-03 10:00",
      "",
      "29.99",
      "",
      "USD",
      "",
      "0",
      "",
      // No events (the why columns: the next test, and tests/integration/case_why_test.ts).
      "",
      "",
      "",
      "",
      "mem_usd",
    ]);
    assert.deepEqual(rows[1], [
      jpy,
      "",
      "kim@example.com",
      "",
      "Recovered",
      "Payment failed",
      "2026-05-02 00:00",
      "2026-05-04 00:00",
      "500",
      "500",
      "JPY",
      "After a nudge",
      "0",
      "",
      "",
      "",
      "",
      "",
      "mem_jpy",
    ]);
    assert.deepEqual(rows[2].slice(8, 11), ["1.234", "", "KWD"], "three decimals for KWD");
    assert.deepEqual(rows[3].slice(1, 12), [
      "",
      "",
      "",
      "Open",
      "Payment failed",
      "2026-03-01 00:00",
      "",
      "",
      "",
      "",
      "",
    ]);

    const ids = async (query: string) =>
      parseCsv((await download(a, query)).text).slice(1).map((row) => row[0]);
    assert.deepEqual(await ids("?status=recovered"), [jpy]);
    assert.deepEqual(await ids("?from=2026-04-01&to=2026-05-02"), [jpy, kwd]);
    assert.deepEqual(await ids("?sort=opened_asc"), [none, kwd, jpy, usd]);
    assert.deepEqual(await ids("?sort=amount_desc"), [usd, kwd, jpy, none]);
    assert.deepEqual(await ids(`?q=${encodeURIComponent("JANE.member@example.com")}`), [usd]);
    assert.deepEqual(await ids("?status=dismissed"), []);
    assert.deepEqual(parseCsv((await download(a, "?status=dismissed")).text), [HEADER], "just the header");

    // The list's "Download CSV" link carries the same filters (the search encrypted) and gives the same rows:
    // the form posts the search, and the list it leads to builds the link.
    for (const q of ["jane.member@example.com", "jan"]) {
      const posted = await a.post(`/dashboard/${a.companyId}/cases`, { q, sort: "opened_asc" });
      assert.equal(posted.status, 303);
      await posted.body?.cancel();
      const list = await (await a.request(posted.headers.get("location")!)).text();
      const link = /href="\/dashboard\/[^"]+\/export\.csv(\?[^"]*)"/.exec(list)?.[1].replaceAll("&amp;", "&");
      assert.ok(link, "a CSV link");
      const carried = new URLSearchParams(link);
      assert.ok(!carried.has("q") && carried.has("e"), `the search only encrypted: ${link}`);
      assert.deepEqual(await ids(link), [usd], q);
    }
  });
});

const HOUR = 3_600_000;
const NEW_YORK = "America/New_York";

/** The oracle for the file's times (which Postgres formats): the minute `at` falls in, on `zone`'s clock. */
function zoned(at: Date | string, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).formatToParts(new Date(at)).map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

Deno.test("export: the columns a creator reads, pinned: names, words, amounts, nudges, reasons, company time", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("xcols");
    const c = a.companyId;
    await enableEverything(sql);
    await isolateQueue(sql, c);
    await sql`update public.company_settings set time_zone = ${NEW_YORK}, incentive_free_days = 0
              where company_id = ${c}`;
    await sandbox.fixtures({
      memberships: [{ id: "mem_card", user_id: "user_ada", company_id: c, status: "past_due" }],
    });
    // 59.987 s past a minute: a time rounded (not cut) to the minute, or with its milliseconds, shows.
    const lateInMinute = (hoursAgo: number) =>
      new Date(Math.floor((Date.now() - hoursAgo * HOUR) / 60_000) * 60_000 + 59_987);
    const failedAt = lateInMinute(3);
    const cancelledAt = lateInMinute(2);
    const words = 'Too pricey, "honestly"';

    // A payment failure with Whop's failure message, nudged once on each channel by a real dispatch round.
    await withWebhookApp(async ({ send }) => {
      const failed = paymentEvent("payment.failed", {
        companyId: c,
        membershipId: "mem_card",
        userId: "user_ada",
        name: "Ada Lovelace",
        email: "ada@example.com",
        productTitle: "Pro Membership, yearly",
        amount: 12.5,
        currency: "usd",
        billingReason: "subscription_cycle",
        failureMessage: "Your card has insufficient funds",
        timestamp: failedAt,
      });
      assert.equal((await send(await signedRequest(failed))).status, 200);
    });
    await withDispatchApp(async (dispatch) => {
      await dispatch();
    });
    const [card] = await sql<{ id: string; sent: number; last_sent: Date }[]>`
      select rc.id, count(j.id)::int as sent, max(j.sent_at) as last_sent
      from public.recovery_cases rc
      left join public.job_queue j on j.case_id = rc.id and j.status = 'sent'
      where rc.company_id = ${c} and rc.membership_id = 'mem_card'
      group by rc.id`;
    assert.equal(card.sent, 2, "the day-0 push and DM were delivered");

    // A scheduled cancellation with Whop's reason and the member's own words, valued at what the member
    // last paid, not nudged yet.
    await withWebhookApp(async ({ send }) => {
      const paid = paymentEvent("payment.succeeded", {
        companyId: c,
        membershipId: "mem_cancel",
        userId: "user_bo",
        amount: 49,
        currency: "usd",
        timestamp: lateInMinute(20 * 24),
      });
      assert.equal((await send(await signedRequest(paid))).status, 200);
      const cancel = membershipEvent("membership.cancel_at_period_end_changed", {
        companyId: c,
        membershipId: "mem_cancel",
        userId: "user_bo",
        name: "Bo Chen",
        email: "bo@example.com",
        productTitle: "Starter",
        cancelAtPeriodEnd: true,
        cancelOption: "too_expensive",
        cancellationReason: words,
        timestamp: cancelledAt,
      });
      assert.equal((await send(await signedRequest(cancel))).status, 200);
    });
    const [cancelCase] = await sql<{ id: string }[]>`
      select id from public.recovery_cases where company_id = ${c} and membership_id = 'mem_cancel'`;

    // A recovered case around New York's spring-forward night, of a member whose name is a formula.
    const hostile = '=HYPERLINK("http://evil.example","Click me")';
    await a.addMember("user_evil", { email: "evil@example.com", name: hostile });
    const evil = await a.addCase({
      userId: "user_evil",
      membershipId: "mem_evil",
      status: "recovered",
      attribution: "nudged",
      openedAt: new Date("2026-03-08T06:59:59.999Z"),
      closedAt: new Date("2026-03-08T07:00:00Z"),
      amountMinor: 1250,
      recoveredMinor: 1250,
      currency: "eur",
    });

    const { status, headers, text } = await download(a);
    assert.equal(status, 200);
    assert.equal(
      headers.get("content-disposition"),
      `attachment; filename="cases-${c}-${
        new Intl.DateTimeFormat("en-CA", { timeZone: NEW_YORK }).format()
      }.csv"`,
      "named after the company's day",
    );
    const [head, ...rows] = parseCsv(text);
    assert.deepEqual(head, header(NEW_YORK), "the zone the times are in, named in their headers");
    assert.deepEqual(rows, [
      [
        cancelCase.id,
        "Bo Chen",
        "bo@example.com",
        "Starter",
        "Open",
        "Cancellation scheduled",
        zoned(cancelledAt, NEW_YORK),
        "",
        "49.00",
        "",
        "USD",
        "",
        "0",
        "",
        "",
        "",
        "Too expensive",
        words,
        "mem_cancel",
      ],
      [
        card.id,
        "Ada Lovelace",
        "ada@example.com",
        "Pro Membership, yearly",
        "Open",
        "Payment failed",
        zoned(failedAt, NEW_YORK),
        "",
        "12.50",
        "",
        "USD",
        "",
        "2",
        zoned(card.last_sent, NEW_YORK),
        "Renewal",
        "Your card has insufficient funds",
        "",
        "",
        "mem_card",
      ],
      [
        evil,
        `'${hostile}`,
        "evil@example.com",
        "",
        "Recovered",
        "Payment failed",
        // 01:59:59.999 EST, then 03:00 EDT a millisecond later: the company's clock, cut to the minute.
        "2026-03-08 01:59",
        "2026-03-08 03:00",
        "12.50",
        "12.50",
        "EUR",
        "After a nudge",
        "0",
        "",
        "",
        "",
        "",
        "",
        "mem_evil",
      ],
    ]);
    assert.match(zoned(failedAt, NEW_YORK), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    // On the wire: the formula defused inside its quotes, the comma and quotes of text cells quoted.
    assert.ok(text.includes(`,"'=HYPERLINK(""http://evil.example"",""Click me"")",`), "defused");
    assert.ok(text.includes(',"Pro Membership, yearly",'));
    assert.ok(text.includes(',"Too pricey, ""honestly""",'));
    assert.doesNotMatch(
      text,
      /\d{2}:\d{2}:\d{2}|T\d{2}:\d{2}|\.\d{3}Z/,
      "no seconds, milliseconds or ISO times",
    );
  });
});

Deno.test("export: RFC 4180 quoting and formula injection defused in every text cell", async () => {
  await withCaseHarness(async ({ company }) => {
    const a = await company("xq");
    const nasty = [
      ["user_eq", '=HYPERLINK("http://evil.example","x")@example.com', "=1+1"],
      ["user_plus", "+cmd@example.com", "+SUM(A1)"],
      ["user_minus", "-2+3@example.com", "-1"],
      ["user_at", "@evil@example.com", "@A1"],
      ["user_tab", "\ttab@example.com", "\tmem"],
      ["user_cr", "\rcr@example.com", "\rmem"],
      ["user_comma", "a,b@example.com", "mem,with,commas"],
      ["user_quote", '"quoted"@example.com', 'mem"quote'],
      ["user_newline", "line\nbreak@example.com", "mem\nline"],
    ];
    for (const [userId, email, membershipId] of nasty) {
      await a.addMember(userId, { email });
      await a.addCase({ userId, membershipId });
    }
    const { status, text } = await download(a, "?sort=opened_asc");
    assert.equal(status, 200);
    const rows = parseCsv(text).slice(1);
    assert.equal(rows.length, nasty.length);
    const cells = new Map(rows.map((row) => [row[column("Membership ID")], row[column("Email")]]));
    const expectCell = (value: string) => /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
    for (const [, email, membershipId] of nasty) {
      assert.ok(cells.has(expectCell(membershipId)), JSON.stringify(membershipId));
      assert.equal(cells.get(expectCell(membershipId)), expectCell(email), JSON.stringify(email));
    }
    // On the wire: no line starts a formula, and quoting keeps records intact.
    assert.ok(text.includes('"\'=HYPERLINK(""http://evil.example"",""x"")@example.com"'));
    assert.ok(text.includes('"mem,with,commas"'));
    for (const cell of rows.flat()) assert.doesNotMatch(cell, /^[=+\-@\t\r]/);
  });
});

Deno.test("export: thousands of rows arrive in several chunks, and an abandoned download frees its connection", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("xs");
    await sql`
      insert into public.recovery_cases (company_id, membership_id, reason, opened_at, amount_at_risk_minor, currency)
      select ${a.companyId}, 'mem_bulk_' || n, 'payment_failed', now() - n * interval '1 minute', n, 'usd'
      from generate_series(1, 2600) n`;

    const response = await a.request(`/dashboard/${a.companyId}/export.csv`);
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let chunks = 0;
    let text = "";
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      chunks++;
      text += decoder.decode(read.value, { stream: true });
    }
    const rows = parseCsv(text);
    assert.equal(rows.length, 2601);
    assert.equal(new Set(rows.slice(1).map((row) => row[0])).size, 2600);
    assert.ok(chunks >= 6, `streamed in batches of 500, not built whole (${chunks} chunks)`);
    assert.equal(rows[1][column("Amount at risk")], "0.01");

    // More abandoned downloads than the pool has connections: each must give its connection back.
    for (let i = 0; i < 12; i++) {
      const abandoned = await a.request(`/dashboard/${a.companyId}/export.csv`);
      const partial = abandoned.body!.getReader();
      await partial.read();
      await partial.cancel();
    }
    const afterwards = await Promise.race([
      a.request(`/dashboard/${a.companyId}/cases`),
      new Promise<Response>((_, reject) =>
        setTimeout(() => reject(new Error("the pool is exhausted")), 5000)
      ),
    ]);
    assert.equal(afterwards.status, 200);
    await afterwards.body?.cancel();
  });
});

Deno.test("export: bad filters answer 400 naming the problem; the page cursor is ignored", async () => {
  await withCaseHarness(async ({ company }) => {
    const a = await company("xe");
    await a.addCase();
    const bad = await a.request(`/dashboard/${a.companyId}/export.csv?status=nope&from=2026-13-01`);
    assert.equal(bad.status, 400);
    const body = await bad.text();
    assert.match(body, /Choose a status from the list/);
    assert.match(body, /start date as YYYY-MM-DD/);
    const withCursor = await download(a, "?cursor=garbage");
    assert.equal(withCursor.status, 200);
    assert.equal(parseCsv(withCursor.text).length, 2);
  });
});

/** Dashboard pool connections an export holds right now (its cursor's query, not idle). */
async function exportConnections(sql: OwnerSql): Promise<number> {
  const [row] = await sql<{ held: number }[]>`
    select count(*)::int as held from pg_stat_activity
    where backend_type = 'client backend' and application_name like 'dashboard %' and state <> 'idle'
      and query like '%m.email_ciphertext%' and pid <> pg_backend_pid()`;
  return row.held;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function bulkCases(sql: OwnerSql, companyId: string, count: number) {
  await sql`
    insert into public.recovery_cases (company_id, membership_id, reason, opened_at, amount_at_risk_minor, currency)
    select ${companyId}, 'mem_bulk_' || n, 'payment_failed', now() - n * interval '1 second', n, 'usd'
    from generate_series(1, ${count}) n`;
}

const IDLE_SECONDS = 5;

/** An HTTP/1.1 GET over a plain socket that reads the answer's head and nothing more, like a client that stalls. */
async function stalledGet(port: number, path: string, token: string) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const request = `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nx-whop-user-token: ${token}\r\n` +
    "accept: text/csv\r\nconnection: close\r\n\r\n";
  await conn.write(new TextEncoder().encode(request));
  let head = "";
  const buffer = new Uint8Array(1024);
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) break;
    head += new TextDecoder().decode(buffer.subarray(0, n));
  }
  /** Everything still to come, until the server closes the connection. */
  const rest = async () => {
    let text = head;
    for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return text;
  };
  return { status: Number(head.split(" ")[1]), conn, rest };
}

Deno.test(
  "export: 12 unread 300,000-case exports leave other companies' pages fast and release their connections",
  async () => {
    await withCaseHarness(async ({ sql, fetch, company }) => {
      const big = await company("xbig");
      const other = await company("xother");
      await bulkCases(sql, big.companyId, 300_000);
      await other.addCase();
      // A real HTTP server, and clients that never read the CSV: the socket's buffers fill, then stall.
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, fetch);
      const { port } = server.addr;
      const get = (who: TestCompany, path: string) =>
        globalThis.fetch(`http://127.0.0.1:${port}${path}`, {
          headers: { "x-whop-user-token": who.token, accept: "text/html" },
        });
      const stalled: Awaited<ReturnType<typeof stalledGet>>[] = [];
      try {
        // Both admins' access is checked once beforehand, so the timings below are the pool's alone.
        for (const who of [big, other]) await (await get(who, `/dashboard/${who.companyId}`)).body?.cancel();
        const overviewMs = async () => {
          const started = performance.now();
          const response = await get(other, `/dashboard/${other.companyId}`);
          assert.equal(response.status, 200);
          await response.text();
          return performance.now() - started;
        };

        const exports = Array.from(
          { length: 12 },
          () => stalledGet(port, `/dashboard/${big.companyId}/export.csv`, big.token),
        );
        const timings = [await overviewMs()];
        stalled.push(...await Promise.all(exports));
        timings.push(await overviewMs());
        assert.deepEqual(
          stalled.map((answer) => answer.status).sort(),
          [200, ...Array(11).fill(429)],
          "one export per company at a time",
        );
        for (const refused of stalled.filter((answer) => answer.status === 429)) {
          assert.match(await refused.rest(), /An export of this company's cases is already running/);
        }
        assert.equal(await exportConnections(sql), 1, "the running export holds one connection");
        timings.push(await overviewMs());
        assert.ok(
          timings.every((ms) => ms < 1000),
          `another company's overview answered in ${timings.map((ms) => ms.toFixed(0)).join(", ")} ms`,
        );

        // Nobody reads it: after the idle timeout the export stops and gives its connection back...
        await waitFor(
          "the export released its connection",
          async () => (await exportConnections(sql)) === 0,
          (IDLE_SECONDS + 20) * 1000,
        );
        // ...and the download is cut off (no last chunk) rather than looking complete.
        const running = stalled.find((answer) => answer.status === 200)!;
        const received = await running.rest().catch(() => "");
        assert.ok(!received.endsWith("\r\n0\r\n\r\n"), "the unread download did not end as a complete file");
        // The slot is free again.
        const again = await get(big, `/dashboard/${big.companyId}/export.csv`);
        assert.equal(again.status, 200);
        await again.body?.cancel();
      } finally {
        for (const answer of stalled) {
          try {
            answer.conn.close();
          } catch {
            // Already closed by reading it to the end.
          }
        }
        await server.shutdown();
      }
    }, { env: { DASHBOARD_EXPORT_IDLE_SECONDS: String(IDLE_SECONDS) } });
  },
);

Deno.test("export: at most three run at once across companies; beyond that 503, and a freed slot is used again", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const companies = [];
    for (let i = 0; i < 4; i++) {
      const c = await company(`xslot${i}`);
      // More rows than the stream buffers ahead, so an unread export keeps its cursor open.
      await bulkCases(sql, c.companyId, 3000);
      companies.push(c);
    }
    const open = (c: TestCompany) =>
      c.request(`/dashboard/${c.companyId}/export.csv`, { headers: { accept: "application/json" } });
    const held: Response[] = [];
    try {
      const first = await Promise.all(companies.map(open));
      held.push(...first);
      const statuses = first.map((response) => response.status);
      assert.deepEqual([...statuses].sort(), [200, 200, 200, 503]);
      const refused = first[statuses.indexOf(503)];
      assert.equal(refused.headers.get("retry-after"), "30");
      assert.deepEqual((await refused.json()).error.code, "exports_busy");
      assert.equal(await exportConnections(sql), 3);

      // A second export of a company whose export runs is told so (429), not queued.
      const runningCompany = companies[statuses.indexOf(200)];
      const second = await open(runningCompany);
      assert.equal(second.status, 429);
      assert.equal((await second.json()).error.code, "export_running");

      // Cancelling one download frees its slot for the company that was refused.
      await first[statuses.indexOf(200)].body!.cancel();
      const retried = await open(companies[statuses.indexOf(503)]);
      held.push(retried);
      assert.equal(retried.status, 200);
      assert.equal(await exportConnections(sql), 3);
    } finally {
      for (const response of held) await response.body?.cancel().catch(() => {});
    }
    await waitFor(
      "every export released its connection",
      async () => (await exportConnections(sql)) === 0,
      10_000,
    );
  });
});

Deno.test("export: one read too slowly stops at the overall timeout and releases its connection", async () => {
  await withCaseHarness(async ({ sql, company }) => {
    const a = await company("xslow");
    await bulkCases(sql, a.companyId, 20_000);
    const started = performance.now();
    const response = await a.request(`/dashboard/${a.companyId}/export.csv`);
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    let rows = 0;
    let failure: unknown = null;
    try {
      // One batch every 300 ms: always within the idle timeout, but 40 batches take 12 s.
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        rows += new TextDecoder().decode(read.value).split("\r\n").length - 1;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    } catch (error) {
      failure = error;
    }
    const seconds = (performance.now() - started) / 1000;
    assert.ok(failure instanceof Error && /ran longer than allowed/.test(failure.message), String(failure));
    assert.ok(rows > 0 && rows < 20_001, `${rows} rows before the cut`);
    assert.ok(seconds >= 4 && seconds < 11, `stopped after ${seconds.toFixed(1)} s`);
    await waitFor(
      "the export released its connection",
      async () => (await exportConnections(sql)) === 0,
      5000,
    );
    // 4 s: a first batch late by a busy machine's second or two must still come before the cut.
  }, { env: { DASHBOARD_EXPORT_MAX_SECONDS: "4", DASHBOARD_EXPORT_IDLE_SECONDS: "30" } });
});

Deno.test("export: bad timeout configuration stops the server naming the variable", async () => {
  for (const name of ["DASHBOARD_EXPORT_IDLE_SECONDS", "DASHBOARD_EXPORT_MAX_SECONDS"]) {
    for (const value of ["0", "-5", "soon"]) {
      await assert.rejects(
        createApp(dashboardEnv({ [name]: value })),
        new RegExp(`${name} must be a positive number`),
      );
    }
  }
});
