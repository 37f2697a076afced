// Where the settings form asks for the experience pushes come from: chosen by name from the company's
// experiences on Whop, or, when Whop lists none or did not answer, pasted as a link (or id) from Whop.
// A pasted link wins over the list, so a creator can always name one the list does not show.
import type { ExperienceChoices } from "../../queries/whop_experiences.ts";
import { controlProps, Field } from "./Field.tsx";
import type { FieldErrors, SettingsFormValues } from "./form_model.ts";

const LINK_HINT =
  "Open the experience on Whop and copy the address, like https://whop.com/joined/…/exp_XXXX/app/";

export function ExperienceField(
  { values, errors, choices }: {
    values: SettingsFormValues;
    errors: FieldErrors;
    choices: ExperienceChoices;
  },
) {
  const current = values.experience_id.trim();
  if (!choices.ok || choices.experiences.length === 0) {
    return (
      <>
        <p class="notice warning" role="status" data-testid="experience-list-unavailable">
          {choices.ok
            ? "Churn Saver has no experience in your company on Whop yet. Add Churn Saver to one of your products on Whop, or paste the experience's link here."
            : "Whop's list of your experiences could not be loaded just now. Paste the experience's link, or reload the page to try again."}
        </p>
        <Field name="experience_id" label="Experience link or id (for push)" errors={errors} hint={LINK_HINT}>
          <input
            type="text"
            autoComplete="off"
            spellcheck={false}
            value={values.experience_id}
            {...controlProps("experience_id", errors, true)}
          />
        </Field>
      </>
    );
  }
  const listed = choices.experiences.some((experience) => experience.id === current);
  const names = choices.experiences.map((experience) => experience.name);
  return (
    <div class="field-row">
      <Field
        name="experience_id"
        label="Experience (for push)"
        errors={errors}
        hint={choices.truncated
          ? "Churn Saver's experiences in your company on Whop (the first 200). Not in the list? Paste its link."
          : "Churn Saver's experiences in your company on Whop. Members get pushes from the one you choose."}
      >
        <select {...controlProps("experience_id", errors, true)}>
          <option value="" selected={current === ""}>Choose an experience</option>
          {choices.experiences.map((experience) => (
            <option key={experience.id} value={experience.id} selected={experience.id === current}>
              {names.indexOf(experience.name) === names.lastIndexOf(experience.name)
                ? experience.name
                : `${experience.name} (${experience.id})`}
            </option>
          ))}
          {current !== "" && !listed && (
            <option value={current} selected>
              {`${current} (not in Whop's list)`}
            </option>
          )}
        </select>
      </Field>
      <Field name="experience_link" label="Or paste its link" errors={errors} hint={LINK_HINT}>
        <input
          type="text"
          autoComplete="off"
          spellcheck={false}
          value={values.experience_link}
          {...controlProps("experience_link", errors, true)}
        />
      </Field>
    </div>
  );
}
