// sqlLiteral against the database itself as the oracle: every literal it writes must read back as
// exactly the text it was given, equal to the same text sent as a parameter, under both settings of
// standard_conforming_strings, and never end the literal early (an injection would change the
// statement's result or fail it).
import assert from "node:assert/strict";
import { sqlLiteral } from "../../supabase/functions/_shared/db.ts";
import { connectAsOwner } from "../support/stack.ts";

const TRICKY = [
  "",
  "plain",
  "it's",
  "''",
  "\\",
  "\\'",
  "'\\",
  "\\\\'; select 1; --",
  "'); drop table public.events; --",
  "$$",
  "$tag$ x $tag$",
  'a "quoted" \\"json\\" string',
  "line\nbreak\r\ttab",
  "ünïcødé 🎉 \u2028",
  "E'not an escape'",
  JSON.stringify({ message: 'Your card\'s "CVC" is wrong \\ retry', nested: { a: ["'", "\\n"] } }),
];

function randomText(length: number): string {
  const alphabet = ["'", "\\", '"', "$", "E", "e", "\n", ";", "-", "a", "é", "🎉", " ", "{", "}"];
  return Array.from({ length }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join("");
}

Deno.test("sqlLiteral reads back as its text, equal to the parameter, whatever standard_conforming_strings", async () => {
  const sql = connectAsOwner();
  try {
    const texts = [...TRICKY, ...Array.from({ length: 300 }, (_, i) => randomText(1 + (i % 40)))];
    for (const setting of ["on", "off"]) {
      await sql.begin(async (tx) => {
        await tx.unsafe(`set local standard_conforming_strings = ${setting}`);
        for (const text of texts) {
          const [row] = await tx.unsafe(`select ${sqlLiteral(text)}::text as value, 7 as after`);
          assert.equal(row.value, text, `standard_conforming_strings=${setting}: ${JSON.stringify(text)}`);
          assert.equal(row.after, 7, "the literal ended early");
          const [same] = await tx.unsafe(`select ${sqlLiteral(text)}::text = $1::text as equal`, [text]);
          assert.equal(same.equal, true);
        }
      });
    }
    // A JSON document survives as jsonb too (the webhook's row).
    const document = { id: "msg_1", failure_message: 'Card\'s "declined" \\ ünï', n: [1, null, true] };
    const [row] = await sql.unsafe(`select ${sqlLiteral(JSON.stringify(document))}::jsonb as value`);
    assert.deepEqual(row.value, document);
  } finally {
    await sql.end();
  }
});

Deno.test("sqlLiteral refuses a NUL, which Postgres text cannot hold", () => {
  assert.throws(() => sqlLiteral("a\0b"), RangeError);
});
