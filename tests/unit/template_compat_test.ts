// The dispatcher sends what renderMessage returns, so the template editor's changes (issue 13) must
// not change a byte of what existing templates render to: every default of every reason, channel and
// schedule position, and company overrides in the `{?x}...{/x}` syntax, with every kind of member
// variables. The expected texts were written by the renderer as it was before those changes.
import assert from "node:assert/strict";
import { renderMessage } from "../../supabase/functions/_shared/messages/render.ts";
import { compatCases } from "../fixtures/render_compat_cases.ts";

const EXPECTED: Record<string, { title: string; content: string }> = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/render_compat_expected.json", import.meta.url)),
);

Deno.test("existing templates render byte-identically to before the template editor changed", () => {
  const cases = compatCases();
  assert.equal(cases.length, Object.keys(EXPECTED).length, "every pinned case is still rendered");
  assert.ok(cases.length > 600);
  for (const c of cases) {
    const expected = EXPECTED[c.name];
    assert.ok(expected, `${c.name} is pinned`);
    assert.deepEqual(renderMessage(c.channel, c.position, c.overrides, c.vars, c.reason), expected, c.name);
  }
});
