// CSV cells: RFC 4180 quoting and defusing of anything a spreadsheet would run as a formula.
import assert from "node:assert/strict";
import { csvCell, csvRow } from "../../web/lib/csv.ts";

Deno.test("plain values stay as they are; empty for null and undefined", () => {
  assert.equal(csvCell("mem_123"), "mem_123");
  assert.equal(csvCell("29.99"), "29.99");
  assert.equal(csvCell(42), "42");
  assert.equal(csvCell(-5), "-5", "a number is never a formula");
  assert.equal(csvCell(10n), "10");
  assert.equal(csvCell(false), "false");
  assert.equal(csvCell(null), "");
  assert.equal(csvCell(undefined), "");
  assert.equal(csvCell(""), "");
  assert.equal(csvCell("jane+tag@example.com"), "jane+tag@example.com", "only a leading sign is a risk");
});

Deno.test("RFC 4180: commas, quotes and line breaks are quoted, quotes doubled", () => {
  assert.equal(csvCell("a,b"), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell("line1\nline2"), '"line1\nline2"');
  assert.equal(csvCell("x\r\ny"), '"x\r\ny"');
  assert.equal(csvRow(["a", "b,c", null, 'd"e']), 'a,"b,c",,"d""e"\r\n');
});

Deno.test("formula injection: = + - @ tab and CR at the start get a leading apostrophe", () => {
  assert.equal(csvCell("=1+1"), "'=1+1");
  assert.equal(csvCell("+1"), "'+1");
  assert.equal(csvCell("-2+3"), "'-2+3");
  assert.equal(csvCell("@SUM(A1)"), "'@SUM(A1)");
  assert.equal(csvCell("\t=1"), "'\t=1");
  assert.equal(csvCell("\r=1"), '"\'\r=1"', "defused, then quoted for the CR");
  assert.equal(
    csvCell('=HYPERLINK("http://evil.example","x")'),
    '"\'=HYPERLINK(""http://evil.example"",""x"")"',
  );
  assert.equal(csvCell(" =1"), " =1", "a leading space is not a formula");
});
