// `deno task bench ingest` in its quick mode against the test stack, so the benchmark cannot rot
// silently: every row of its tables is printed, every delivery was answered 200, the SQL rows left
// the cases they should, and the run removed what it stored and put the flags back. No figure is
// judged here (timings on a shared machine are BENCHMARKS.md's business).
import assert from "node:assert/strict";
import { connectAsOwner } from "../support/stack.ts";

const MAIN = new URL("../bench/main.ts", import.meta.url).pathname;

Deno.test("bench ingest --quick prints every row and cleans up after itself", async () => {
  const sql = connectAsOwner();
  try {
    const flagsBefore =
      await sql`select name, enabled, rollout_percent from public.feature_flags order by name`;
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        MAIN,
        "ingest",
        "--quick",
        "--seconds",
        "1",
        "--webhooks",
        "60",
        "--stored",
        "--stored-events",
        "3000",
        "--stored-cases",
        "900",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout);
    assert.equal(code, 0, `the benchmark failed:\n${out}\n${new TextDecoder().decode(stderr)}`);

    const row = (first: string) => out.split("\n").find((line) => line.startsWith(`| ${first} `));
    for (
      const name of [
        "ceiling: insert, new row",
        "ceiling: insert, conflict",
        "ingest: new failure, opens a case",
        "ingest: duplicate",
        "ingest: success, closes a case",
        "ingest: unknown type",
        "end to end: function, 32 in flight",
        "ingest SQL, new failure / insert ceiling",
        "function CPU per webhook (8+ in flight, best), ms",
        "function CPU / peer's",
        "stored / empty, ingest SQL new failure",
      ]
    ) assert.ok(row(name), `a row "${name}" in:\n${out}`);
    // End to end: both ways in and the peer, every level, the duplicates and the open-loop run, all answered 200.
    const http = out.split("\n").filter((line) => /^\| (gateway|function|peer) +\|/.test(line))
      .map((line) => line.split("|").map((cell) => cell.trim()));
    for (const path of ["gateway", "function", "peer"]) {
      for (const inFlight of ["1", "8", "32", "64"]) {
        assert.ok(
          http.some((cells) => cells[1] === path && cells[2] === "new failures" && cells[3] === inFlight),
          `${path} at ${inFlight} in flight in:\n${out}`,
        );
      }
      assert.ok(
        http.some((cells) => cells[1] === path && cells[2] === "all duplicates"),
        `${path} duplicates`,
      );
      assert.ok(
        http.some((cells) => cells[1] === path && cells[2].startsWith("open loop")),
        `${path} open loop`,
      );
    }
    for (const cells of http) assert.equal(cells[8], "0", `no errors: ${cells.join(" | ")}`);
    // The SQL rows did what they say: the successes closed cases the failures opened.
    const check = /check: ([\d,]+) cases open, ([\d,]+) recovered/.exec(out);
    assert.ok(check, `the SQL rows' check line in:\n${out}`);
    assert.ok(Number(check[2].replaceAll(",", "")) > 0, "successes recovered cases");
    assert.match(out, /self time: frame/, "the CPU profile's frames");

    const [left] = await sql`
      select (select count(*)::int from public.companies where company_id ~ '^biz_bi[0-9a-f]{8}c[0-9]+$') as companies,
             (select count(*)::int from pg_namespace where nspname = 'bench_ingest') as scratch`;
    assert.deepEqual(
      { ...left },
      { companies: 0, scratch: 0 },
      "the run's companies and scratch schema are gone",
    );
    const flagsAfter =
      await sql`select name, enabled, rollout_percent from public.feature_flags order by name`;
    assert.deepEqual(flagsAfter, flagsBefore, "the flags are as they were");
  } finally {
    await sql.end();
  }
});
