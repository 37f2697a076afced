// The incentive as an explicit choice: no free days, or a number of them. Until the creator has chosen
// (set-up not done), neither is selected, so the default is never kept without anyone deciding.
import { FieldError, fieldId } from "./Field.tsx";
import type { FieldErrors, SettingsFormValues } from "./form_model.ts";

export function IncentiveField({ values, errors }: { values: SettingsFormValues; errors: FieldErrors }) {
  const describedBy = ["incentive_choice", "incentive_free_days"]
    .filter((name) => errors[name])
    .map((name) => `${fieldId(name)}-error`)
    .concat(`${fieldId("incentive_choice")}-hint`)
    .join(" ");
  const invalid = (name: string) => (errors[name] ? "true" as const : undefined);
  return (
    <fieldset class="incentive-choice" id={fieldId("incentive_choice")} aria-describedby={describedBy}>
      <legend>Free days offered</legend>
      <label class="incentive-option">
        <input
          type="radio"
          name="incentive_choice"
          value="none"
          id={fieldId("incentive_choice-none")}
          checked={values.incentive_choice === "none"}
          aria-invalid={invalid("incentive_choice")}
        />
        <span>No free days</span>
      </label>
      <label class="incentive-option">
        <input
          type="radio"
          name="incentive_choice"
          value="free_days"
          id={fieldId("incentive_choice-free_days")}
          checked={values.incentive_choice === "free_days"}
          aria-invalid={invalid("incentive_choice")}
        />
        <span>Offer</span>
        <input
          type="text"
          inputMode="numeric"
          value={values.incentive_free_days}
          name="incentive_free_days"
          id={fieldId("incentive_free_days")}
          aria-label="Number of free days"
          aria-invalid={invalid("incentive_free_days")}
          aria-describedby={errors.incentive_free_days
            ? `${fieldId("incentive_free_days")}-error`
            : undefined}
        />
        <span>free days</span>
      </label>
      <p id={`${fieldId("incentive_choice")}-hint`} class="hint">
        Granted once per case, right after the first nudge that reaches the member, which announces them;
        later nudges say they were added. A case keeps the number it opened with.
      </p>
      <FieldError name="incentive_choice" errors={errors} />
      <FieldError name="incentive_free_days" errors={errors} />
    </fieldset>
  );
}
