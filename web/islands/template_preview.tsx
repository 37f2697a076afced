// Live preview of one step's messages while the creator edits the settings form. It renders with
// the dispatcher's own renderMessage, so the preview is exactly what a member named Alex would get.
// The settings page renders this component as the server-side fallback; in the browser it re-renders
// on every edit of the step's template fields, the incentive days and the channel checkboxes. The DM
// shows its Markdown rendered (bold, links, ...), as the member reads it. The bundle also mounts the
// fields' rows of variables to insert (VariableChips), so the settings page loads one script.
import { useEffect, useState } from "preact/hooks";
import {
  type MessageVariables,
  type RenderedMessage,
  renderMessage,
} from "../../supabase/functions/_shared/messages/render.ts";
import { type Channel, parseTemplateOverrides } from "../../supabase/functions/_shared/messages/templates.ts";
import { VARIABLE_CHIPS_ISLAND, VariableChips } from "../components/settings/VariableChips.tsx";
import { DmMarkdown } from "../lib/dm_markdown.tsx";
import { mountIslands } from "../lib/islands.ts";

export const TEMPLATE_PREVIEW_ISLAND = "template_preview";

/** What the form holds for this step (template fields empty = the default is used). */
export interface PreviewInputs {
  pushTitle: string;
  pushContent: string;
  dmContent: string;
  freeDays: number;
  push: boolean;
  dm: boolean;
}

export interface TemplatePreviewProps {
  step: number;
  /** The saved schedule's length: the step's position picks the default wording. */
  steps: number;
  formId: string;
  /** Sample amounts are shown in this currency (the company's latest case's). */
  currency: string;
  companyName: string | null;
  sampleLink: string;
  initial: PreviewInputs;
}

const SAMPLE_FIRST_NAME = "Alex";
const SAMPLE_AMOUNT_MINOR = 2999;

export function TemplatePreview(props: TemplatePreviewProps) {
  const [inputs, setInputs] = useState(props.initial);

  useEffect(() => {
    const form = document.getElementById(props.formId);
    if (!(form instanceof HTMLFormElement)) return;
    const update = () => setInputs(readInputs(form, props.step, props.initial));
    update(); // the browser may have restored edits (back button)
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    return () => {
      form.removeEventListener("input", update);
      form.removeEventListener("change", update);
    };
  }, [props.formId, props.step]);

  const overrides = overridesOf(props.step, inputs);
  const parsed = parseTemplateOverrides(overrides);
  const errorsOf = (channel: Channel) =>
    parsed.ok ? [] : parsed.errors.filter((error) => error.path.startsWith(`${channel}.`));
  const vars: MessageVariables = {
    firstName: SAMPLE_FIRST_NAME,
    productName: null, // reads "your membership"; members see the product named in its webhooks
    amountMinor: SAMPLE_AMOUNT_MINOR,
    currency: props.currency,
    recoveryLink: props.sampleLink,
    freeDays: inputs.freeDays,
    // As for most members: the first nudge is delivered and announces the days; later ones follow it.
    freeDaysGiven: props.step > 0,
    companyName: props.companyName,
  };
  const position = { step: props.step, steps: props.steps };
  const render = (channel: Channel) => renderMessage(channel, position, overrides, vars);

  return (
    <div class="template-preview">
      <p class="preview-caption muted">
        Preview for a member named {SAMPLE_FIRST_NAME}
        {inputs.freeDays > 0
          ? `, with ${inputs.freeDays} free ${inputs.freeDays === 1 ? "day" : "days"} ${
            props.step === 0 ? "announced by this nudge" : "already given by an earlier nudge"
          }`
          : ", without free days"}
      </p>
      <ChannelPreview channel="push" enabled={inputs.push} errors={errorsOf("push")} message={render} />
      <ChannelPreview channel="dm" enabled={inputs.dm} errors={errorsOf("dm")} message={render} />
    </div>
  );
}

function ChannelPreview(
  { channel, enabled, errors, message }: {
    channel: Channel;
    enabled: boolean;
    errors: { path: string; message: string }[];
    message: (channel: Channel) => RenderedMessage;
  },
) {
  const label = channel === "push" ? "Push notification" : "Direct message";
  return (
    <div class={`preview-${channel}${enabled ? "" : " preview-off"}`}>
      <p class="preview-label">
        {label}
        {enabled ? "" : " (channel off: not sent)"}
      </p>
      {errors.length > 0
        ? (
          <p class="preview-error">
            Fix the template to see it here: {errors.map((error) => error.message).join("; ")}
          </p>
        )
        : <MessageBody channel={channel} message={message(channel)} />}
    </div>
  );
}

function MessageBody({ channel, message }: { channel: Channel; message: RenderedMessage }) {
  return (
    <div class="preview-message">
      {channel === "push" && <p class="preview-title">{message.title}</p>}
      {channel === "push"
        ? <p class="preview-content">{message.content}</p>
        : <DmMarkdown class="preview-content preview-markdown" text={message.content} />}
    </div>
  );
}

/** The step's overrides as the dispatcher would read them; empty fields fall back to the default. */
function overridesOf(step: number, inputs: PreviewInputs): Record<string, unknown> {
  const key = String(step);
  const push: Record<string, string> = {};
  if (inputs.pushTitle.trim()) push.title = inputs.pushTitle;
  if (inputs.pushContent.trim()) push.content = inputs.pushContent;
  return {
    ...(Object.keys(push).length ? { push: { [key]: push } } : {}),
    ...(inputs.dmContent.trim() ? { dm: { [key]: { content: inputs.dmContent } } } : {}),
  };
}

function readInputs(form: HTMLFormElement, step: number, fallback: PreviewInputs): PreviewInputs {
  const value = (name: string, otherwise: string) => {
    const field = form.elements.namedItem(name);
    return field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement
      ? field.value.replace(/\r\n?/g, "\n")
      : otherwise;
  };
  const checked = (name: string, otherwise: boolean) => {
    const field = form.elements.namedItem(name);
    return field instanceof HTMLInputElement ? field.checked : otherwise;
  };
  const choice = form.elements.namedItem("incentive_choice");
  const noFreeDays = choice instanceof RadioNodeList && choice.value === "none";
  const days = noFreeDays ? "0" : value("incentive_free_days", String(fallback.freeDays)).trim();
  return {
    pushTitle: value(`templates.push.${step}.title`, fallback.pushTitle),
    pushContent: value(`templates.push.${step}.content`, fallback.pushContent),
    dmContent: value(`templates.dm.${step}.content`, fallback.dmContent),
    freeDays: /^\d{1,4}$/.test(days) ? Number(days) : fallback.freeDays,
    push: checked("push_enabled", fallback.push),
    dm: checked("dm_enabled", fallback.dm),
  };
}

if (typeof document !== "undefined") {
  mountIslands(TEMPLATE_PREVIEW_ISLAND, TemplatePreview);
  mountIslands(VARIABLE_CHIPS_ISLAND, VariableChips);
}
