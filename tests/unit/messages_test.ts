// Nudge templates: defaults for every step and channel, company overrides and their validation,
// graceful fallbacks for missing values, Markdown safety of member-supplied text, and the recovery link
// that every message must carry.
import assert from "node:assert/strict";
import {
  CASE_REASONS,
  DEFAULT_PUSH_TITLE_MAX_CHARS,
  DEFAULT_TEMPLATES,
  DEFAULT_TEMPLATES_BY_REASON,
  parseTemplateOverrides,
  TEMPLATE_VARIABLES,
} from "../../supabase/functions/_shared/messages/templates.ts";
import {
  formatAmount,
  type MessageVariables,
  renderMessage,
} from "../../supabase/functions/_shared/messages/render.ts";
import { optionalParts } from "../../supabase/functions/_shared/messages/template_syntax.ts";

const LINK = "https://dash.example.com/r/eyJjIjoiY2FzZV8xIn0.Zm9v_bar-1";

const full: MessageVariables = {
  firstName: "Ana",
  productName: "Pro Traders",
  amountMinor: 2999,
  currency: "usd",
  recoveryLink: LINK,
  freeDays: 3,
  // Given already: a later message. Announcing them is tested on its own below.
  freeDaysGiven: true,
  companyName: "Acme Trading",
};

const bare: MessageVariables = {
  firstName: null,
  productName: null,
  amountMinor: null,
  currency: null,
  recoveryLink: LINK,
  freeDays: 0,
  freeDaysGiven: false,
  companyName: null,
};

/** Step `step` of the default three-step schedule, or of one `steps` long. */
const at = (step: number, steps = 3) => ({ step, steps });

/** Unrendered syntax must never reach a member. */
function assertNoTemplateSyntax(text: string) {
  assert.doesNotMatch(text, /\{[?/]?[a-z_]+\}/, text);
}

Deno.test("the variable list is the documented one", () => {
  assert.deepEqual(
    [...TEMPLATE_VARIABLES],
    ["first_name", "product", "amount", "recovery_link", "free_days", "incentive", "company"],
  );
});

Deno.test("defaults of every case reason parse as overrides, have three steps per channel and short push titles", () => {
  assert.equal(
    DEFAULT_TEMPLATES,
    DEFAULT_TEMPLATES_BY_REASON.payment_failed,
    "the settings page shows these",
  );
  for (const reason of CASE_REASONS) {
    const defaults = DEFAULT_TEMPLATES_BY_REASON[reason];
    const asOverrides = {
      push: Object.fromEntries(defaults.push.map((t, i) => [String(i), t])),
      dm: Object.fromEntries(defaults.dm.map((t, i) => [String(i), { content: t.content }])),
    };
    assert.deepEqual(parseTemplateOverrides(asOverrides), { ok: true, templates: asOverrides }, reason);
    assert.equal(defaults.push.length, 3, reason);
    assert.equal(defaults.dm.length, 3, reason);
    for (const template of defaults.push) {
      assert.ok(template.title && template.title.length <= DEFAULT_PUSH_TITLE_MAX_CHARS, template.title);
      assert.doesNotMatch(template.content, /\*\*|__|\[|`/, "push defaults are plain text");
    }
  }
});

Deno.test("defaults render for steps 0..3 on both channels and every reason, with and without values", () => {
  for (const reason of CASE_REASONS) {
    for (const channel of ["push", "dm"] as const) {
      const seen = new Set<string>();
      for (const step of [0, 1, 2, 3]) {
        for (const vars of [full, bare]) {
          const message = renderMessage(channel, at(step), null, vars, reason);
          assertNoTemplateSyntax(message.title + message.content);
          assert.ok(message.content.includes(LINK), `${reason} ${channel} ${step}`);
          assert.equal(message.content.split(LINK).length, 2, "the link appears exactly once");
          assert.doesNotMatch(
            message.content,
            /your membership membership|your your/i,
            "fallbacks read well",
          );
          if (channel === "push") assert.ok(message.title.length > 0 && message.title.length <= 60);
          else assert.equal(message.title, "");
          if (vars === full) seen.add(message.content);
        }
      }
      assert.equal(seen.size, 3, `${reason} ${channel}: three distinct steps, step 3 repeats the last one`);
      assert.deepEqual(
        renderMessage(channel, at(3), null, full, reason),
        renderMessage(channel, at(2), null, full, reason),
      );
    }
  }
});

Deno.test("each case reason gets its own wording; an unknown reason gets the failed-payment one", () => {
  const firstPush = (reason?: string | null) => renderMessage("push", at(0), null, full, reason);
  const titles = CASE_REASONS.map((reason) => firstPush(reason).title);
  assert.equal(new Set(titles).size, CASE_REASONS.length, titles.join(" | "));
  assert.equal(firstPush().title, "Your payment didn't go through");
  assert.deepEqual(firstPush("refund_requested"), firstPush("payment_failed"));
  assert.deepEqual(firstPush(null), firstPush("payment_failed"));
  assert.match(firstPush("action_required").content, /confirm/i);
  assert.match(firstPush("cancel_scheduled").content, /Pro Traders is set to end/);
  assert.match(firstPush("membership_deactivated").content, /has ended/);
  for (const reason of ["cancel_scheduled", "membership_deactivated"]) {
    for (const step of [0, 1, 2]) {
      assert.doesNotMatch(
        renderMessage("dm", at(step), null, full, reason).content,
        /payment/i,
        `${reason} ${step}`,
      );
    }
  }
  // No incentive is granted after a membership ended, so its nudges never promise free days.
  for (const channel of ["push", "dm"] as const) {
    for (const template of DEFAULT_TEMPLATES_BY_REASON.membership_deactivated[channel]) {
      assert.doesNotMatch(template.content, /free_days/);
    }
  }
});

Deno.test("a company's override is used for cases of every reason", () => {
  const overrides = { push: { "0": { title: "Hey {first_name}", content: "Come back: {recovery_link}" } } };
  for (const reason of CASE_REASONS) {
    assert.deepEqual(renderMessage("push", at(0), overrides, full, reason), {
      title: "Hey Ana",
      content: `Come back: ${LINK}`,
    });
  }
  // Steps without an override keep the reason's default.
  assert.match(renderMessage("push", at(1), overrides, full, "cancel_scheduled").title, /still time to stay/);
});

Deno.test("values fill in, and missing values read naturally", () => {
  const push = renderMessage("push", at(0), null, { ...full, freeDaysGiven: false });
  assert.equal(push.title, "Your payment didn't go through");
  assert.equal(
    push.content,
    "Hi Ana, we couldn't process your payment of $29.99 for Pro Traders. " +
      `We're adding 3 free days to your membership, on us. Update your card to keep your access: ${LINK}`,
  );
  const pushBare = renderMessage("push", at(0), null, bare);
  assert.equal(
    pushBare.content,
    `Hi there, we couldn't process your payment for your membership. Update your card to keep your access: ${LINK}`,
  );

  const dm = renderMessage("dm", at(1), null, full);
  assert.match(dm.content, /^Hi Ana, /);
  assert.match(dm.content, /\*\*Pro Traders\*\*/);
  assert.match(dm.content, /We've already added \*\*3 free days\*\* to your membership/);
  assert.match(dm.content, /— Acme Trading$/);

  const dmBare = renderMessage("dm", at(1), null, bare);
  assert.match(dmBare.content, /^Hi there, /);
  assert.match(dmBare.content, /\*\*your membership\*\*/);
  assert.doesNotMatch(dmBare.content, /free day/, "free days 0 drops the incentive sentence");
  assert.doesNotMatch(dmBare.content, /—/, "no company, no sign-off");
  assert.ok(dmBare.content.endsWith(LINK));
});

Deno.test("one free day reads '1 free day'", () => {
  assert.match(renderMessage("dm", at(1), null, { ...full, freeDays: 1 }).content, /\*\*1 free day\*\*/);
  const overrides = {
    push: { "0": { content: "Get {free_days} days, {free_days} extra days! {recovery_link}" } },
  };
  assert.equal(
    renderMessage("push", at(0), overrides, { ...full, freeDays: 1 }).content,
    `Get 1 day, 1 extra day! ${LINK}`,
  );
  assert.equal(renderMessage("push", at(0), overrides, full).content, `Get 3 days, 3 extra days! ${LINK}`);
});

Deno.test("overrides apply per step and channel; the rest use the step's default", () => {
  const overrides = {
    push: { "1": { title: "Psst {first_name}", content: "{product} misses you: {recovery_link}" } },
    dm: { "0": { content: "Hey **{first_name}**, fix it here: {recovery_link}" } },
  };
  assert.deepEqual(parseTemplateOverrides(overrides), { ok: true, templates: overrides });

  assert.deepEqual(renderMessage("push", at(1), overrides, full), {
    title: "Psst Ana",
    content: `Pro Traders misses you: ${LINK}`,
  });
  assert.deepEqual(renderMessage("dm", at(0), overrides, full), {
    title: "",
    content: `Hey **Ana**, fix it here: ${LINK}`,
  });
  assert.deepEqual(renderMessage("push", at(0), overrides, full), renderMessage("push", at(0), null, full));
  assert.deepEqual(renderMessage("dm", at(1), overrides, full), renderMessage("dm", at(1), null, full));
  assert.deepEqual(renderMessage("push", at(2), overrides, full), renderMessage("push", at(2), null, full));

  // A push entry may override only the title (or only the content).
  const titleOnly = { push: { "0": { title: "Heads up, {first_name}" } } };
  const rendered = renderMessage("push", at(0), titleOnly, full);
  assert.equal(rendered.title, "Heads up, Ana");
  assert.equal(rendered.content, renderMessage("push", at(0), null, full).content);
});

Deno.test("an override past the defaults is used for its own step", () => {
  const overrides = { dm: { "5": { content: "Sixth nudge {recovery_link}" } } };
  assert.equal(renderMessage("dm", at(5), overrides, full).content, `Sixth nudge ${LINK}`);
  assert.deepEqual(renderMessage("dm", at(4), overrides, full), renderMessage("dm", at(2), null, full));
});

Deno.test("optional sections render only when their variable has a value", () => {
  const overrides = {
    push: {
      "0": {
        title: "Hi{?first_name} {first_name}{/first_name}",
        content: "Pay{?amount} {amount}{/amount} now.{?free_days} Bonus: {free_days} days.{/free_days}" +
          "{?company} ({company}){/company} {recovery_link}",
      },
    },
  };
  assert.deepEqual(renderMessage("push", at(0), overrides, full), {
    title: "Hi Ana",
    content: `Pay $29.99 now. Bonus: 3 days. (Acme Trading) ${LINK}`,
  });
  assert.deepEqual(renderMessage("push", at(0), overrides, bare), {
    title: "Hi",
    content: `Pay now. ${LINK}`,
  });
  // Nested sections of different variables work too.
  const nested = {
    dm: { "0": { content: "{?amount}Due: {amount}{?free_days} (+{free_days} days){/free_days}.{/amount}" } },
  };
  assert.equal(parseTemplateOverrides(nested).ok, true);
  assert.equal(renderMessage("dm", at(0), nested, full).content, `Due: $29.99 (+3 days).\n\n${LINK}`);
  assert.equal(
    renderMessage("dm", at(0), nested, { ...full, freeDays: 0 }).content,
    `Due: $29.99.\n\n${LINK}`,
  );
});

Deno.test("unknown variables are rejected by name; syntax and limits are checked", () => {
  const result = parseTemplateOverrides({
    push: { "0": { title: "Hi {foo}", content: "{?amount}due {amount} {recovery_link}" } },
    dm: { "1": { content: "{/company} {First_Name} {recovery_link}" }, "01": { content: "x" } },
  });
  assert.equal(result.ok, false);
  if (result.ok) return;
  const byPath = (path: string) => result.errors.filter((e) => e.path === path).map((e) => e.message);
  assert.match(byPath("push.0.title")[0], /unknown variable \{foo\}/);
  assert.match(byPath("push.0.content")[0], /\{\?amount\} is never closed/);
  assert.ok(byPath("dm.1.content").some((m) => /\{\/company\} has no matching \{\?company\}/.test(m)));
  assert.ok(byPath("dm.1.content").some((m) => /unknown variable \{First_Name\}/.test(m)));
  assert.match(byPath("dm.01")[0], /steps are numbered/);

  const tooLong = parseTemplateOverrides({
    push: { "0": { title: "x".repeat(101) } },
    dm: { "0": { content: "x".repeat(2001) } },
  });
  assert.deepEqual(tooLong, {
    ok: false,
    errors: [
      { path: "push.0.title", message: "must be at most 100 characters" },
      { path: "dm.0.content", message: "must be at most 2000 characters" },
    ],
  });

  assert.equal(parseTemplateOverrides({ push: { "0": {} } }).ok, false, "an empty entry says nothing");
  assert.equal(parseTemplateOverrides({ sms: {} }).ok, false, "unknown channel");
  assert.equal(parseTemplateOverrides("hi").ok, false);
  assert.deepEqual(parseTemplateOverrides(null), { ok: true, templates: {} });
  assert.deepEqual(parseTemplateOverrides({}), { ok: true, templates: {} });
  // Braces that are not variable tokens are plain text.
  assert.equal(parseTemplateOverrides({ dm: { "0": { content: "{ } {:) {recovery_link}" } } }).ok, true);
});

Deno.test("overrides that fail to parse fall back to defaults at render time, without throwing", () => {
  for (const broken of ["nonsense", 42, [], { push: "x" }, { push: { "0": { title: "{foo}" } } }]) {
    assert.deepEqual(renderMessage("push", at(0), broken, full), renderMessage("push", at(0), null, full));
  }
  // One broken entry does not disable a valid one next to it.
  const mixed = { push: { "0": { title: "{foo}" }, "1": { title: "Fine {first_name}" } }, email: true };
  assert.equal(renderMessage("push", at(1), mixed, full).title, "Fine Ana");
});

Deno.test("DM escapes Markdown in values only; the recovery link stays the only link", () => {
  const hostile: MessageVariables = {
    ...full,
    firstName: "*bold*_x_[link](http://evil)",
    productName: "<script>alert(1)</script> `code` # www.evil.com",
    companyName: "@everyone ~~gone~~ | :smile:",
  };
  const overrides = {
    dm: { "0": { content: "Hi **{first_name}**, about _{product}_ from {company}: {recovery_link}" } },
  };
  const { content } = renderMessage("dm", at(0), overrides, hostile);
  assert.equal(
    content,
    "Hi **\\*bold\\*\\_x\\_\\[link\\]\\(http\\:\\/\\/evil\\)**, about " +
      "_\\<script\\>alert\\(1\\)\\<\\/script\\> \\`code\\` \\# www\\.evil\\.com_ from " +
      `\\@everyone \\~\\~gone\\~\\~ \\| \\:smile\\:: ${LINK}`,
  );
  assert.equal(content.match(/https?:\/\//g)?.length, 1, "only the recovery link is a URL");
  assert.doesNotMatch(content, /(?<!\\)\[/, "no unescaped link syntax");

  // Every default keeps the hostile name literal too.
  for (const step of [0, 1, 2]) {
    const message = renderMessage("dm", at(step), null, hostile).content;
    assert.ok(message.includes("\\*bold\\*\\_x\\_\\[link\\]\\(http\\:\\/\\/evil\\)"));
    assert.equal(message.match(/https?:\/\//g)?.length, 1);
  }
});

Deno.test("push values are plain: no escaping, but no control characters or line breaks", () => {
  const vars = { ...full, firstName: "*Ana*\n\nClick evil\u0007\u202E", productName: "Pro\r\nPlan\tGold" };
  const overrides = { push: { "0": { title: "Hi {first_name}", content: "{product}\n{recovery_link}" } } };
  assert.deepEqual(renderMessage("push", at(0), overrides, vars), {
    title: "Hi *Ana* Click evil",
    content: `Pro Plan Gold\n${LINK}`,
  });
  const long = renderMessage("push", at(0), overrides, { ...full, firstName: "A".repeat(500) });
  assert.ok(long.title.length <= 100 && long.title.endsWith("…"));
});

Deno.test("the recovery link is appended on a new line when an override leaves it out", () => {
  const overrides = {
    push: { "0": { content: "Please update your card." } },
    dm: { "0": { content: "Please **update** your card.{?free_days} {recovery_link}{/free_days}" } },
  };
  assert.equal(renderMessage("push", at(0), overrides, full).content, `Please update your card.\n${LINK}`);
  assert.equal(renderMessage("dm", at(0), overrides, full).content, `Please **update** your card. ${LINK}`);
  assert.equal(
    renderMessage("dm", at(0), overrides, { ...full, freeDays: 0 }).content,
    `Please **update** your card.\n\n${LINK}`,
    "a link inside a hidden section is appended too",
  );
  assert.doesNotMatch(
    renderMessage("dm", at(0), overrides, { ...full, recoveryLink: " " }).content,
    /https?:/,
    "a blank link is no link",
  );
});

Deno.test("formatAmount uses the currency's exponent", () => {
  assert.equal(formatAmount(2999, "usd"), "$29.99");
  assert.equal(formatAmount(500, "jpy"), "¥500");
  assert.equal(formatAmount(1234, "kwd"), "KWD\u00a01.234");
  assert.equal(formatAmount(1999, "EUR"), "€19.99");
  assert.equal(formatAmount(5, "usd"), "$0.05");
  assert.equal(formatAmount(0, "usd"), "$0.00");
  assert.equal(formatAmount(123456789012345, "usd"), "$1,234,567,890,123.45");
  assert.throws(() => formatAmount(-1, "usd"), RangeError);
  assert.throws(() => formatAmount(1.5, "usd"), RangeError);
  assert.throws(() => formatAmount(100, "btc"), RangeError);
  assert.throws(() => formatAmount(100, "zzz"), RangeError);
});

Deno.test("an amount in a currency without a minor unit reads as if no amount were known", () => {
  const message = renderMessage("push", at(0), null, { ...full, currency: "btc" });
  assert.match(message.content, /your payment for Pro Traders/);
  const jpy = renderMessage("push", at(0), null, { ...full, amountMinor: 500, currency: "jpy" });
  assert.match(jpy.content, /your payment of ¥500 for/);
});

/** Whether a message says it is the last one. */
const SAYS_LAST = /\blast (reminder|message|note|chance)\b/i;

Deno.test("messages for every schedule length 1-10: first, middle and last wording by position; only the last says so", () => {
  for (const reason of CASE_REASONS) {
    for (const channel of ["push", "dm"] as const) {
      const first = renderMessage(channel, at(0, 3), null, full, reason);
      const middle = renderMessage(channel, at(1, 3), null, full, reason);
      const last = renderMessage(channel, at(2, 3), null, full, reason);
      for (let steps = 1; steps <= 10; steps++) {
        const messages = Array.from(
          { length: steps },
          (_, step) => renderMessage(channel, at(step, steps), null, full, reason),
        );
        const saysLast = messages.flatMap((m, step) =>
          SAYS_LAST.test(m.title + " " + m.content) ? [step] : []
        );
        // A one-step schedule's only message explains the problem; it does not open with "our last reminder".
        assert.deepEqual(saysLast, steps === 1 ? [] : [steps - 1], `${reason} ${channel} ${steps} steps`);
        assert.deepEqual(messages[0], first, `${reason} ${channel} ${steps}: step 0 is the first`);
        if (steps > 1) assert.deepEqual(messages[steps - 1], last);
        for (const message of messages.slice(1, -1)) assert.deepEqual(message, middle);
      }
    }
  }
});

Deno.test("the free days are announced until granted, then spoken of as given, with the case's own number", () => {
  for (const reason of ["payment_failed", "action_required", "cancel_scheduled"]) {
    for (const channel of ["push", "dm"] as const) {
      for (const days of [1, 3, 14]) {
        const amount = `${days} free ${days === 1 ? "day" : "days"}`;
        for (let step = 0; step < 4; step++) {
          const offered = renderMessage(channel, at(step, 4), null, {
            ...full,
            freeDays: days,
            freeDaysGiven: false,
          }, reason);
          const given = renderMessage(channel, at(step, 4), null, {
            ...full,
            freeDays: days,
            freeDaysGiven: true,
          }, reason);
          const plain = (text: string) => text.replaceAll("**", "");
          assert.match(
            plain(offered.content),
            new RegExp(`We're adding ${amount} to your membership`),
            `${reason} ${channel} ${step}`,
          );
          assert.match(plain(given.content), new RegExp(`We've already added ${amount} to your membership`));
          for (const text of [offered.content, given.content]) {
            assert.equal(plain(text).match(/\d+ free days?/g)?.length, 1, "one number, the case's");
            assert.doesNotMatch(text, /we'll add|once it's|if you stay/i, "no conditional promise");
          }
        }
        assert.doesNotMatch(
          renderMessage(channel, at(0), null, { ...full, freeDays: 0 }, reason).content,
          /free day/,
        );
      }
    }
  }
});

Deno.test("a creator's text that does not mention the free days still announces them before the grant", () => {
  const overrides = { dm: { "0": { content: "Please update your card: {recovery_link}" } } };
  assert.equal(
    renderMessage("dm", at(0), overrides, { ...full, freeDaysGiven: false }).content,
    `Please update your card: ${LINK}\n\nWe're adding **3 free days** to your membership, on us.`,
  );
  assert.equal(
    renderMessage("dm", at(0), overrides, full).content,
    `Please update your card: ${LINK}`,
    "given: no repeat",
  );
  const ownWords = { dm: { "0": { content: "{free_days} days are yours: {recovery_link}" } } };
  assert.equal(
    renderMessage("dm", at(0), ownWords, { ...full, freeDaysGiven: false }).content,
    `3 days are yours: ${LINK}`,
    "the creator's own mention is the announcement",
  );
});

Deno.test("with no destination the message has no link, and its sentences still end cleanly", () => {
  const nowhere = { ...full, recoveryLink: null };
  for (const reason of CASE_REASONS) {
    for (const channel of ["push", "dm"] as const) {
      for (const step of [0, 1, 2]) {
        for (const vars of [nowhere, { ...bare, recoveryLink: null }]) {
          const { title, content } = renderMessage(channel, at(step), null, vars, reason);
          assertNoTemplateSyntax(title + content);
          assert.doesNotMatch(content, /https?:|\/r\//, `${reason} ${channel} ${step}`);
          assert.doesNotMatch(content, /(here|:)\s*$|:\s*\n/m, `no dangling lead-in: ${content}`);
        }
      }
    }
  }
  assert.equal(
    renderMessage("push", at(0), null, { ...nowhere, freeDays: 0 }).content,
    "Hi Ana, we couldn't process your payment of $29.99 for Pro Traders. Update your card to keep your access.",
  );
  const overrides = { push: { "0": { content: "Pay here: {recovery_link}. Thanks!" } } };
  assert.equal(renderMessage("push", at(0), overrides, { ...nowhere, freeDays: 0 }).content, "Pay. Thanks!");
});

Deno.test("template errors say in words what is wrong and how to fix it", () => {
  const errorsOf = (content: string) => {
    const result = parseTemplateOverrides({ dm: { "0": { content } } });
    assert.equal(result.ok, false, content);
    return result.ok ? [] : result.errors.map((e) => e.message);
  };
  assert.deepEqual(errorsOf("Hi {First_Name}"), [
    "unknown variable {First_Name}: did you mean {first_name} (first name)?",
  ]);
  assert.deepEqual(errorsOf("Hi {firstname}, {recovery-link}"), [
    "unknown variable {firstname}: did you mean {first_name} (first name)?",
  ]);
  assert.deepEqual(errorsOf("Hi {nickname}"), [
    'unknown variable {nickname}: there is no variable called "nickname"; use one of {first_name}, ' +
    "{product}, {amount}, {recovery_link}, {free_days}, {incentive}, {company}",
  ]);
  assert.deepEqual(errorsOf("Paid{?amount} {amount}"), [
    "{?amount} is never closed with {/amount}: add {/amount} after the words that should show only when " +
    "the amount is known",
  ]);
  assert.deepEqual(errorsOf("Bye{/company}"), [
    "{/company} has no matching {?company} before it: it ends a part shown only when the company name is " +
    "known, so put {?company} where that part starts, or remove {/company}",
  ]);
  // "{recovery-link}" is not a variable token (a dash), so it stays text as before: no error for it.
});

Deno.test("a free-days offer written without a section is left out, with its spacing, when there are no free days", () => {
  const dm = { dm: { "0": { content: "Hi {first_name}.\n\n{incentive}\n\nUpdate here: {recovery_link}" } } };
  const push = { push: { "0": { content: "Hi {first_name}. {incentive} Update: {recovery_link}" } } };
  assert.equal(
    renderMessage("dm", at(0), dm, { ...full, freeDays: 0 }).content,
    `Hi Ana.\n\nUpdate here: ${LINK}`,
  );
  assert.equal(
    renderMessage("push", at(0), push, { ...full, freeDays: 0 }).content,
    `Hi Ana. Update: ${LINK}`,
  );
  // With free days it reads as it always did.
  assert.equal(
    renderMessage("push", at(0), push, { ...full, freeDays: 3, freeDaysGiven: false }).content,
    `Hi Ana. We're adding 3 free days to your membership, on us. Update: ${LINK}`,
  );
  assert.equal(
    renderMessage("dm", at(0), dm, full).content,
    `Hi Ana.\n\nWe've already added **3 free days** to your membership, on us.\n\nUpdate here: ${LINK}`,
  );
});

Deno.test("optional parts are listed for the editor to explain in words", () => {
  assert.deepEqual(optionalParts(DEFAULT_TEMPLATES.dm[0].content), [
    { name: "amount", text: "of {amount}" },
    { name: "incentive", text: "{incentive}" },
    { name: "company", text: "— {company}" },
  ]);
  assert.deepEqual(optionalParts("{?amount}{amount}{?product} for {product}{/product}{/amount}"), [
    { name: "amount", text: "{amount}{?product} for {product}{/product}" },
  ]);
  assert.deepEqual(optionalParts("no parts {first_name}"), []);
  assert.deepEqual(optionalParts("{?amount} broken"), [], "a template with errors has none to explain");
});
