// One nudge step's message templates (push title and content, DM content) beside their live preview.
import {
  TEMPLATE_PREVIEW_ISLAND,
  TemplatePreview,
  type TemplatePreviewProps,
} from "../../islands/template_preview.tsx";
import { islandAttrs } from "../../lib/islands.ts";
import { controlProps, Field } from "./Field.tsx";
import { type FieldErrors, type SettingsFormValues, TEMPLATE_FIELD_PREFIX } from "./form_model.ts";

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
      <div class="template-grid">
        <div class="template-fields">
          <Field name={pushTitle} label="Push title" errors={errors} hint="Plain text, one line.">
            <input
              type="text"
              maxLength={200}
              value={text(`push.${step}.title`)}
              {...describe(pushTitle, errors)}
            />
          </Field>
          <Field name={pushContent} label="Push text" errors={errors} hint="Plain text.">
            <textarea rows={4} {...describe(pushContent, errors)}>{text(`push.${step}.content`)}</textarea>
          </Field>
          <Field
            name={dmContent}
            label="Direct message"
            errors={errors}
            hint="Markdown: **bold**, lists, links."
          >
            <textarea rows={7} {...describe(dmContent, errors)}>{text(`dm.${step}.content`)}</textarea>
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
