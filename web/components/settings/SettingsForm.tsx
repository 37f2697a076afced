// The settings page: schedule, channels, incentive and attribution, and the message templates with
// their live previews. A plain HTML form (works without JavaScript); errors sit next to their fields
// and are listed at the top with links to them.
import { TEMPLATE_VARIABLES } from "../../../supabase/functions/_shared/messages/templates.ts";
import type { ExperienceChoices } from "../../queries/whop_experiences.ts";
import { ExperienceField } from "./ExperienceField.tsx";
import { Checkbox, controlProps, Field, FieldError, fieldId } from "./Field.tsx";
import {
  type FieldErrors,
  type SettingsFormValues,
  TEMPLATE_FIELD_PREFIX,
  TIME_ZONES,
} from "./form_model.ts";
import { IncentiveField } from "./IncentiveField.tsx";
import { type PreviewContext, TemplateStep } from "./TemplateStep.tsx";
import { BrowserTimeZoneDefault } from "./TimeZoneDefault.tsx";

export const SETTINGS_FORM_ID = "settings-form";

const VARIABLE_HELP: Record<(typeof TEMPLATE_VARIABLES)[number], string> = {
  first_name: "the member's first name (“there” when unknown)",
  product: "what they pay for (“your membership”)",
  amount: "the amount due, in the payment's currency",
  recovery_link: "the tracked link to update the payment (added at the end if you leave it out)",
  free_days: "the number of free days this member's case offers (0 = none)",
  incentive:
    "one sentence about the free days: “We're adding 3 free days…” until they are granted, “We've already added…” after",
  company: "your company's name",
};

const FIELD_LABELS: Record<string, string> = {
  nudge_offsets_days: "Nudge days",
  send_hour: "Send hour",
  time_zone: "Time zone",
  channels: "Channels",
  experience_id: "Experience",
  experience_link: "Experience link",
  incentive_choice: "Free days offered",
  incentive_free_days: "Free days",
  attribution_window_days: "Attribution window",
};

export function SettingsForm(
  { action, values, errors, offsets, stepCount, preview, experiences, timeZoneFromBrowser }: {
    action: string;
    values: SettingsFormValues;
    errors: FieldErrors;
    /** The company's experiences on Whop, to choose from by name. */
    experiences: ExperienceChoices;
    /** No time zone chosen yet: the browser's becomes the select's default (TimeZoneDefault.tsx). */
    timeZoneFromBrowser: boolean;
    /** The saved schedule, to name each template step's day. */
    offsets: number[];
    stepCount: number;
    preview: Omit<PreviewContext, "formId">;
  },
) {
  const text = (name: Exclude<keyof SettingsFormValues, "templates">) => String(values[name]);
  const steps = Array.from({ length: stepCount }, (_, step) => step);
  return (
    <form id={SETTINGS_FORM_ID} method="post" action={action} class="settings-form" novalidate>
      <ErrorSummary errors={errors} />

      <section class="card settings-section" aria-labelledby="schedule-heading">
        <h2 id="schedule-heading">Schedule</h2>
        <p class="muted section-intro">
          Changes to the schedule apply to cases that open after you save. Pausing applies right away.
        </p>
        <Checkbox
          name="nudges_paused"
          label="Pause all nudges"
          checked={values.nudges_paused}
          errors={errors}
          hint="While paused, due nudges are skipped (not sent later). Cases still open and recover."
        />
        <div class="field-row">
          <Field
            name="nudge_offsets_days"
            label="Nudge days"
            errors={errors}
            hint="Days after the case opens, e.g. 0, 2, 4 (0 to 30, at most 10), put in order for you."
          >
            <input
              type="text"
              inputMode="numeric"
              autoComplete="off"
              value={text("nudge_offsets_days")}
              {...controlProps("nudge_offsets_days", errors, true)}
            />
          </Field>
          <Field name="send_hour" label="Send hour" errors={errors} hint="Later nudges go out at this hour.">
            <select {...controlProps("send_hour", errors, true)}>
              {Array.from(
                { length: 24 },
                (_, hour) => (
                  <option key={hour} value={String(hour)} selected={text("send_hour") === String(hour)}>
                    {`${String(hour).padStart(2, "0")}:00`}
                  </option>
                ),
              )}
            </select>
          </Field>
          <Field
            name="time_zone"
            label="Time zone"
            errors={errors}
            hint={timeZoneFromBrowser
              ? <span data-browser-time-zone-hint>The send hour is in this time zone.</span>
              : "The send hour is in this time zone."}
          >
            <select
              {...controlProps("time_zone", errors, true)}
              data-browser-default={timeZoneFromBrowser ? "" : undefined}
            >
              {!TIME_ZONES.includes(values.time_zone) && (
                <option value="" selected>
                  Choose a time zone
                </option>
              )}
              {TIME_ZONES.map((zone) => (
                <option key={zone} value={zone} selected={values.time_zone === zone}>{zone}</option>
              ))}
            </select>
            {timeZoneFromBrowser && <BrowserTimeZoneDefault selectId={fieldId("time_zone")} />}
          </Field>
        </div>
      </section>

      <section class="card settings-section" aria-labelledby="channels-heading">
        <h2 id="channels-heading">Channels</h2>
        <fieldset
          class="channels"
          aria-describedby={errors.channels ? `${fieldId("channels")}-error` : undefined}
        >
          <legend>Send nudges by</legend>
          <Checkbox
            name="push_enabled"
            label="Push notification"
            checked={values.push_enabled}
            errors={errors}
            errorName="channels"
          />
          <Checkbox
            name="dm_enabled"
            label="Direct message"
            checked={values.dm_enabled}
            errors={errors}
            errorName="channels"
          />
          <FieldError name="channels" errors={errors} />
        </fieldset>
        {values.push_enabled && values.experience_id.trim() === "" && values.experience_link.trim() === "" &&
          (
            <p class="notice warning" role="status">
              Push is on but there is no experience id: Whop only delivers member pushes through an
              experience, so push nudges are skipped until you choose one.
            </p>
          )}
        <ExperienceField values={values} errors={errors} choices={experiences} />
      </section>

      <section class="card settings-section" aria-labelledby="incentive-heading">
        <h2 id="incentive-heading">Incentive and attribution</h2>
        <div class="field-row">
          <IncentiveField values={values} errors={errors} />
          <Field
            name="attribution_window_days"
            label="Attribution window (days)"
            errors={errors}
            hint="A payment this many days after the case opened counts as recovered (1 to 90)."
          >
            <input
              type="text"
              inputMode="numeric"
              value={text("attribution_window_days")}
              {...controlProps("attribution_window_days", errors, true)}
            />
          </Field>
        </div>
      </section>

      <section class="card settings-section" aria-labelledby="messages-heading">
        <h2 id="messages-heading">Messages</h2>
        <p class="muted section-intro">
          Each nudge's text, per channel. Changes apply to the next nudge sent. Leave a field as it is (or
          empty) to use our default, which fits each case: the wording shown here is for a failed payment, and
          members whose bank wants a confirmation, who scheduled a cancellation or whose membership ended get
          the same nudge worded for them. The first nudge, the last one and those in between each have their
          own default, however many nudges you schedule. A text you change here is used for every case.
        </p>
        <div id="template-variables" class="variables">
          <p>Variables you can use:</p>
          <ul>
            {TEMPLATE_VARIABLES.map((name) => (
              <li key={name}>
                <code>{`{${name}}`}</code> {VARIABLE_HELP[name]}
              </li>
            ))}
          </ul>
          <p>
            <code>{"{?free_days}"}</code>…<code>{"{/free_days}"}</code>{" "}
            keeps the text between only when the variable has a value (works for every variable).
          </p>
        </div>
        {steps.map((step) => (
          <TemplateStep
            key={step}
            step={step}
            steps={Math.max(offsets.length, 1)}
            offsetDays={offsets[step]}
            values={values}
            errors={errors}
            preview={{ ...preview, formId: SETTINGS_FORM_ID }}
          />
        ))}
      </section>

      <div class="form-actions">
        <button type="submit" class="button primary">Save settings</button>
      </div>
    </form>
  );
}

function ErrorSummary({ errors }: { errors: FieldErrors }) {
  const names = Object.keys(errors);
  if (names.length === 0) return null;
  return (
    <div class="notice error" role="alert" aria-labelledby="error-summary-heading">
      <h2 id="error-summary-heading" class="error-summary-heading">
        {names.length === 1 ? "One setting needs a fix" : `${names.length} settings need a fix`}; nothing was
        saved.
      </h2>
      <ul>
        {names.map((name) => (
          <li key={name}>
            {name === "form" ? errors[name] : (
              <>
                <a href={`#${fieldId(name === "channels" ? "push_enabled" : name)}`}>{labelOf(name)}</a>:{" "}
                {errors[name]}
              </>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

function labelOf(name: string): string {
  if (!name.startsWith(TEMPLATE_FIELD_PREFIX)) return FIELD_LABELS[name] ?? name;
  const [channel, step, part] = name.slice(TEMPLATE_FIELD_PREFIX.length).split(".");
  const what = channel === "dm" ? "direct message" : `push ${part === "title" ? "title" : "text"}`;
  return `Nudge ${Number(step) + 1}, ${what}`;
}
