// The CSV export, in-process against the real database: exactly the cases of the list's filters and
// only the company's own, decrypted emails, amounts in each currency's units, RFC 4180 quoting,
// formula-injection defusing, and a streamed body that releases its connection when abandoned.
import assert from "node:assert/strict";
import { type TestCompany, withCaseHarness } from "../support/case_fixtures.ts";

const HEADER = [
  "case_id",
  "status",
  "reason",
  "membership_id",
  "member_email",
  "opened_at",
  "closed_at",
  "amount_at_risk",
  "recovered_amount",
  "currency",
  "attribution",
  "closed_by",
  "billing_reason",
  "failure_message",
  "cancellation_reason",
];

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

async function download(company: TestCompany, query = "") {
  const response = await company.request(`/dashboard/${company.companyId}/export.csv${query}`, {
    headers: { accept: "text/csv,text/html" },
  });
  const text = await response.text();
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
    const [header, ...rows] = parseCsv(all.text);
    assert.deepEqual(header, HEADER);
    assert.deepEqual(rows.map((row) => row[0]), [usd, jpy, kwd, none], "the list's order: newest first");
    assert.ok(!all.text.includes(theirs) && !all.text.includes("mem_theirs"), "nothing of another company");
    assert.deepEqual(rows[0], [
      usd,
      "open",
      "payment_failed",
      "mem_usd",
      "Jane.Member@example.com",
      "2026-05-03T10:00:00.123Z",
      "",
      "29.99",
      "",
      "USD",
      "",
      // No refund or dispute, and no events (the why columns: tests/integration/case_why_test.ts).
      "",
      "",
      "",
      "",
    ]);
    assert.deepEqual(rows[1].slice(4, 11), [
      "kim@example.com",
      "2026-05-02T00:00:00.000Z",
      "2026-05-04T00:00:00.000Z",
      "500",
      "500",
      "JPY",
      "nudged",
    ]);
    assert.deepEqual(rows[2].slice(7, 10), ["1.234", "", "KWD"], "three decimals for KWD");
    assert.deepEqual(rows[3].slice(4, 10), ["", "2026-03-01T00:00:00.000Z", "", "", "", ""]);

    const ids = async (query: string) =>
      parseCsv((await download(a, query)).text).slice(1).map((row) => row[0]);
    assert.deepEqual(await ids("?status=recovered"), [jpy]);
    assert.deepEqual(await ids("?from=2026-04-01&to=2026-05-02"), [jpy, kwd]);
    assert.deepEqual(await ids("?sort=opened_asc"), [none, kwd, jpy, usd]);
    assert.deepEqual(await ids("?sort=amount_desc"), [usd, kwd, jpy, none]);
    assert.deepEqual(await ids(`?q=${encodeURIComponent("JANE.member@example.com")}`), [usd]);
    assert.deepEqual(await ids("?status=dismissed"), []);
    assert.deepEqual(parseCsv((await download(a, "?status=dismissed")).text), [HEADER], "just the header");

    // The list's "Download CSV" link carries the same filters (the search encrypted) and gives the same rows.
    const list =
      await (await a.request(`/dashboard/${a.companyId}/cases?q=jane.member%40example.com&sort=opened_asc`))
        .text();
    const link = /href="\/dashboard\/[^"]+\/export\.csv(\?[^"]*)"/.exec(list)?.[1].replaceAll("&amp;", "&");
    assert.ok(link && !link.includes("jane"), link);
    assert.deepEqual(await ids(link), [usd]);
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
    const cells = new Map(rows.map((row) => [row[3], row[4]]));
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
    assert.equal(rows[1][7], "0.01");

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
