// The settings form's template fields: each step is prefilled with the default for its position in
// the schedule, and text equal to any default is "untouched", so changing the schedule's length in
// the same save never freezes a "last reminder" onto a middle step.
import assert from "node:assert/strict";
import { DEFAULT_TEMPLATES } from "../../supabase/functions/_shared/messages/templates.ts";
import {
  formValuesFromBody,
  parseSettingsForm,
  settingsToForm,
} from "../../web/components/settings/form_model.ts";
import { DEFAULT_SETTINGS } from "../../web/queries/settings.ts";

const [FIRST, MIDDLE, LAST] = DEFAULT_TEMPLATES.dm.map((template) => template.content);

Deno.test("each step's fields show the default for its position in the saved schedule", () => {
  for (let steps = 1; steps <= 10; steps++) {
    const offsets = Array.from({ length: steps }, (_, i) => i * 2);
    const form = settingsToForm({ ...DEFAULT_SETTINGS, nudge_offsets_days: offsets });
    const shown = offsets.map((_, step) => form.templates[`dm.${step}.content`]);
    const expected = offsets.map((_, step) => step === 0 ? FIRST : step === steps - 1 ? LAST : MIDDLE);
    assert.deepEqual(shown, expected, `${steps} steps`);
  }
});

Deno.test("lengthening the schedule in the same save keeps every step on the defaults", () => {
  const three = settingsToForm({ ...DEFAULT_SETTINGS, nudge_offsets_days: [0, 2, 4] });
  const body: Record<string, unknown> = {
    ...Object.fromEntries(Object.entries(three.templates).map(([key, text]) => [`templates.${key}`, text])),
    nudge_offsets_days: "0, 2, 4, 6",
    send_hour: String(three.send_hour),
    time_zone: three.time_zone,
    push_enabled: "on",
    dm_enabled: "on",
    experience_id: "",
    incentive_choice: "free_days",
    incentive_free_days: "3",
    attribution_window_days: three.attribution_window_days,
  };
  const parsed = parseSettingsForm(formValuesFromBody(body));
  assert.ok(parsed.ok, JSON.stringify(parsed));
  assert.deepEqual(parsed.settings.templates, {}, "no step's default text becomes an override");
  assert.deepEqual(parsed.settings.nudge_offsets_days, [0, 2, 4, 6]);
});
