// One nudge step's message templates (push title and content, DM content) beside their live preview,
// each field with its row of variables to insert.
import { FALLBACK_VALUES } from "../../../supabase/functions/_shared/messages/render.ts";
import {
  TEMPLATE_VARIABLES,
  type TemplateVariable,
} from "../../../supabase/functions/_shared/messages/template_syntax.ts";
import {
  TEMPLATE_PREVIEW_ISLAND,
  TemplatePreview,
  type TemplatePreviewProps,
} from "../../islands/template_preview.tsx";
import { islandAttrs } from "../../lib/islands.ts";
import { controlProps, Field, fieldId } from "./Field.tsx";
import { type FieldErrors, type SettingsFormValues, TEMPLATE_FIELD_PREFIX } from "./form_model.ts";
import { VARIABLE_CHIPS_ISLAND, VariableChips, type VariableChipsProps } from "./VariableChips.tsx";

/** A title is one short line: no link, no sentence about free days. */
const TITLE_VARIABLES: readonly TemplateVariable[] = ["first_name", "product", "amount", "company"];

/** How a template reads when a value is unknown, in one line: no syntax is needed for it. */
export const MISSING_VALUES_HELP = `No special codes needed when we don't know a value: the message says ` +
  `“${FALLBACK_VALUES.first_name}” for a first name, “${FALLBACK_VALUES.product}” for the ` +
  `product, “${FALLBACK_VALUES.amount}” for the amount and “${FALLBACK_VALUES.company}” for ` +
  `your company, and leaves the free-days offer out when there are no free days.`;

export interface PreviewContext {
  formId: string;
  currency: string;
  companyName: string | null;
  sampleLink: string;
}

export function TemplateStep(
  { step, steps, offsetDays, values, errors, preview }: {
    step: number;
    /** The saved schedule's length. */
    steps: number;
    /** The day of this step in the saved schedule; undefined when the schedule has fewer steps. */
    offsetDays: number | undefined;
    values: SettingsFormValues;
    errors: FieldErrors;
    preview: PreviewContext;
  },
) {
  const name = (key: string) => `${TEMPLATE_FIELD_PREFIX}${key}`;
  const text = (key: string) => values.templates[key] ?? "";
  const pushTitle = name(`push.${step}.title`);
  const pushContent = name(`push.${step}.content`);
  const dmContent = name(`dm.${step}.content`);
  const headingId = `step-${step}-heading`;
  // "No free days" chosen: the days typed beside "Offer" are not offered.
  const freeDays = values.incentive_choice === "none" ? 0 : Number(values.incentive_free_days);
  const previewProps: TemplatePreviewProps = {
    step,
    steps,
    ...preview,
    initial: {
      pushTitle: text(`push.${step}.title`),
      pushContent: text(`push.${step}.content`),
      dmContent: text(`dm.${step}.content`),
      freeDays: Number.isSafeInteger(freeDays) && freeDays >= 0 ? freeDays : 0,
      push: values.push_enabled,
      dm: values.dm_enabled,
    },
  };

  /** The variables to insert into the field of template `key` ("dm.0.content"). */
  const chips = (key: string, label: string, variables: readonly TemplateVariable[] = TEMPLATE_VARIABLES) => {
    const props: VariableChipsProps = {
      targetId: fieldId(name(key)),
      fieldLabel: label,
      variables,
      text: text(key),
    };
    return (
      <div class="variable-chips-slot" {...islandAttrs(VARIABLE_CHIPS_ISLAND, props)}>
        <VariableChips {...props} />
      </div>
    );
  };

  return (
    <section class="template-step" aria-labelledby={headingId}>
      <h3 id={headingId}>
        Nudge {step + 1}
        <span class="muted">
          {offsetDays === undefined
            ? " · not in the schedule"
            : offsetDays === 0
            ? " · day 0, when the case opens"
            : ` · day ${offsetDays}`}
        </span>
      </h3>
      {step === 0 && <p class="template-help">{MISSING_VALUES_HELP}</p>}
      <div class="template-grid">
        <div class="template-fields">
          <Field name={pushTitle} label="Push title" errors={errors} hint="Plain text, one line.">
            <input
              type="text"
              maxLength={200}
              value={text(`push.${step}.title`)}
              {...describe(pushTitle, errors)}
            />
            {chips(`push.${step}.title`, "Push title", TITLE_VARIABLES)}
          </Field>
          <Field name={pushContent} label="Push text" errors={errors} hint="Plain text.">
            <textarea rows={4} {...describe(pushContent, errors)}>{text(`push.${step}.content`)}</textarea>
            {chips(`push.${step}.content`, "Push text")}
          </Field>
          <Field
            name={dmContent}
            label="Direct message"
            errors={errors}
            hint="Markdown: **bold**, *italics*, [link text](https://...), lists with - at the start of a line. The preview shows it as members see it."
          >
            <textarea rows={7} {...describe(dmContent, errors)}>{text(`dm.${step}.content`)}</textarea>
            {chips(`dm.${step}.content`, "Direct message")}
          </Field>
        </div>
        <div
          class="template-preview-slot"
          role="region"
          aria-label={`Preview of nudge ${step + 1}`}
          {...islandAttrs(TEMPLATE_PREVIEW_ISLAND, previewProps)}
        >
          <TemplatePreview {...previewProps} />
        </div>
      </div>
    </section>
  );
}

/** Control attributes plus the shared list of variables, so screen readers hear what is available. */
function describe(name: string, errors: FieldErrors) {
  const props = controlProps(name, errors, true);
  return { ...props, "aria-describedby": `${props["aria-describedby"]} template-variables` };
}
