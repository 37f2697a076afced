// What the settings form makes of a pasted experience link, of nudge days typed out of order and of
// the incentive choice (web/components/settings/form_model.ts).
import assert from "node:assert/strict";
import {
  experienceIdFrom,
  parseSettingsForm,
  type SettingsFormValues,
  settingsToForm,
} from "../../web/components/settings/form_model.ts";
import { DEFAULT_SETTINGS } from "../../web/queries/settings.ts";

Deno.test("an experience id is found in the links Whop shows, and only as a whole segment", () => {
  const cases: [string, string][] = [
    ["exp_AbC123", "exp_AbC123"],
    ["  exp_AbC123  ", "exp_AbC123"],
    ["https://whop.com/joined/acme-academy/exp_AbC123/app/", "exp_AbC123"],
    ["https://whop.com/joined/acme-academy/exp_AbC123/app/?ref=dash#top", "exp_AbC123"],
    ["whop.com/hub/exp_XyZ9", "exp_XyZ9"],
    ["https://whop.com/experiences/exp_XyZ9/exp_XyZ9/", "exp_XyZ9"],
    ["https://example.com/?experience=exp_Q1", "exp_Q1"],
    ["https://whop.com/joined/acme-academy/", "missing"],
    ["texp_notone/", "missing"],
    ["exp_", "missing"],
    ["exp_bad id", "missing"],
    ["https://whop.com/joined/a/exp_one/app/?back=/exp_two", "ambiguous"],
  ];
  for (const [typed, expected] of cases) assert.equal(experienceIdFrom(typed), expected, typed);
});

function form(overrides: Partial<SettingsFormValues>): SettingsFormValues {
  return { ...settingsToForm(DEFAULT_SETTINGS), ...overrides };
}

Deno.test("the form saves the id of a pasted link; the link wins over the list", () => {
  const pasted = parseSettingsForm(form({ experience_id: "https://whop.com/joined/x/exp_Pasted1/app/" }));
  assert.ok(pasted.ok);
  assert.equal(pasted.settings.experience_id, "exp_Pasted1");
  const both = parseSettingsForm(
    form({ experience_id: "exp_FromList", experience_link: "whop.com/x/exp_Link2/" }),
  );
  assert.ok(both.ok);
  assert.equal(both.settings.experience_id, "exp_Link2");
  const bad = parseSettingsForm(form({ experience_link: "https://whop.com/joined/x/" }));
  assert.ok(!bad.ok);
  assert.match(bad.errors.experience_link, /No experience id \(exp_…\)/);
});

Deno.test("nudge days are sorted; a day given twice is refused by name", () => {
  const sorted = parseSettingsForm(form({ nudge_offsets_days: "4; 0 2" }));
  assert.ok(sorted.ok);
  assert.deepEqual(sorted.settings.nudge_offsets_days, [0, 2, 4]);
  const twice = parseSettingsForm(form({ nudge_offsets_days: "3, 0, 3" }));
  assert.ok(!twice.ok);
  assert.equal(twice.errors.nudge_offsets_days, "Day 3 is listed twice. List each day once, like 0, 2, 4.");
});

Deno.test("the incentive is a choice: none gives 0 whatever is typed, free days need a number, no choice is an error", () => {
  const none = parseSettingsForm(form({ incentive_choice: "none", incentive_free_days: "5" }));
  assert.ok(none.ok);
  assert.equal(none.settings.incentive_free_days, 0);
  const seven = parseSettingsForm(form({ incentive_choice: "free_days", incentive_free_days: " 7 " }));
  assert.ok(seven.ok);
  assert.equal(seven.settings.incentive_free_days, 7);
  const zero = parseSettingsForm(form({ incentive_choice: "free_days", incentive_free_days: "0" }));
  assert.ok(!zero.ok);
  assert.match(zero.errors.incentive_free_days, /from 1 to 1095, or choose no free days/);
  const unchosen = parseSettingsForm(form({ incentive_choice: "" }));
  assert.ok(!unchosen.ok);
  assert.match(unchosen.errors.incentive_choice, /Choose whether members get free days/);
  assert.equal(settingsToForm(DEFAULT_SETTINGS, { incentiveChosen: false }).incentive_choice, "");
  assert.equal(settingsToForm({ ...DEFAULT_SETTINGS, incentive_free_days: 0 }).incentive_choice, "none");
});
