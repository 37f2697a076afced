// The DM preview's Markdown: what a member sees in Whop's chat (bold, italics, links, lists, line
// breaks), and nothing a template or a member's name could inject (HTML, script links, attributes).
import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { renderMessage } from "../../supabase/functions/_shared/messages/render.ts";
import { DmMarkdown, isSafeLink } from "../../web/lib/dm_markdown.tsx";

const html = (text: string) => renderToString(<DmMarkdown text={text} />);

Deno.test("dm markdown: bold, italics, code, links, lists and line breaks", () => {
  assert.equal(
    html("Hi **Alex**, *really* _now_"),
    "<div><p>Hi <strong>Alex</strong>, <em>really</em> <em>now</em></p></div>",
  );
  assert.equal(html("__bold__ and `code`"), "<div><p><strong>bold</strong> and <code>code</code></p></div>");
  assert.equal(
    html("**bold with *italics* inside**"),
    "<div><p><strong>bold with <em>italics</em> inside</strong></p></div>",
  );
  assert.equal(
    html("Pay [here](https://pay.example.com/x?a=1&b=2)."),
    '<div><p>Pay <a href="https://pay.example.com/x?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">here</a>.</p></div>',
  );
  assert.equal(
    html("Link: https://dash.example.com/r/abc_def-1."),
    "<div><p>Link: https://dash.example.com/r/abc_def-1.</p></div>",
    "a bare link stays text, underscores untouched",
  );
  assert.equal(html("one\ntwo\n\nthree"), "<div><p>one<br/>two</p><p>three</p></div>");
  assert.equal(
    html("Steps:\n- first\n- **second**\n\n1. a\n2. b"),
    "<div><p>Steps:</p><ul><li>first</li><li><strong>second</strong></li></ul><ol><li>a</li><li>b</li></ol></div>",
  );
});

Deno.test("dm markdown: what is not Markdown stays as typed", () => {
  assert.equal(html("first_name and snake_case_words"), "<div><p>first_name and snake_case_words</p></div>");
  assert.equal(html("2 * 3 * 4 and a lone ** and _"), "<div><p>2 * 3 * 4 and a lone ** and _</p></div>");
  assert.equal(
    html("\\*\\*not bold\\*\\* \\_x\\_"),
    "<div><p>**not bold** _x_</p></div>",
    "escapes show the character",
  );
  assert.equal(html("[no link] (here)"), "<div><p>[no link] (here)</p></div>");
});

Deno.test("dm markdown: hostile template text is shown as text, never as HTML or a script link", () => {
  const hostile = [
    '<script>alert("x")</script>',
    '<img src=x onerror="alert(1)">',
    "**<b onmouseover=alert(1)>bold</b>**",
    "[click](javascript:alert(document.cookie))",
    "[click](JaVaScRiPt:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[vb](vbscript:msgbox(1))",
    '[quote](https://ok.example.com/"onmouseover="alert(1))',
    "javascript:alert(1) and http://x.example.com/<script>",
    "`<iframe src=//evil.example.com>`",
    "&lt;script&gt; &amp; &#60;b&#62;",
  ].join("\n\n");
  const out = html(hostile);
  assert.doesNotMatch(
    out,
    /<(?!\/?(?:div|p|br|strong|em|code|a|span|ul|ol|li)[\s>/])/i,
    "only the preview's own elements",
  );
  assert.doesNotMatch(out, /<script|<img|<iframe|<b[\s>]/i);
  assert.doesNotMatch(out, /href="(?!https?:\/\/)/i, "every link is http(s)");
  for (const tag of out.match(/<[a-z][^>]*>/gi) ?? []) {
    assert.doesNotMatch(tag, /\son\w+=/i, `no event handler attribute in ${tag}`);
  }
  assert.ok(
    out.includes("&lt;script>alert(&quot;x&quot;)&lt;/script>") || out.includes("&lt;script&gt;"),
    out,
  );
  assert.match(
    out,
    /<span class="link-refused">click<\/span>/,
    "a script link shows its text without a link",
  );
  assert.match(out, /<span class="link-refused">data<\/span>/);
  assert.match(out, /&amp;lt;script&amp;gt;/, "entities are shown as typed, not decoded");
  assert.match(
    out,
    /href="https:\/\/ok\.example\.com\/&quot;onmouseover=&quot;alert\(1"/,
    "quotes stay inside the href",
  );
  assert.equal(isSafeLink("javascript:alert(1)"), false);
  assert.equal(isSafeLink(" https://x.example.com"), false);
  assert.equal(isSafeLink("https://x.example.com"), true);
});

Deno.test("dm markdown: a rendered DM with hostile member values shows them literally", () => {
  const { content } = renderMessage("dm", { step: 0, steps: 3 }, {
    dm: { "0": { content: "Hi **{first_name}**, about {product}: {recovery_link}" } },
  }, {
    firstName: "<img src=x onerror=alert(1)> **Eve**",
    productName: "[win](javascript:alert(1)) _VIP_",
    amountMinor: null,
    currency: null,
    recoveryLink: "https://dash.example.com/r/tok_1",
    freeDays: 0,
    freeDaysGiven: false,
    companyName: null,
  });
  assert.equal(
    html(content),
    "<div><p>Hi <strong>&lt;img src=x onerror=alert(1)> **Eve**</strong>, about [win](javascript:alert(1)) _VIP_: " +
      "https://dash.example.com/r/tok_1</p></div>",
  );
});
