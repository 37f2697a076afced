// Nudge templates: the defaults (per case reason, in default_templates.ts) and the per-company
// overrides kept in `company_settings.templates`, which apply to cases of every reason:
//   { "push": { "0": { "title": "...", "content": "..." } }, "dm": { "1": { "content": "..." } } }
// A missing step or channel uses the default for the step's position in the case's schedule: the
// first step, the last one (which alone says it is the last), or a middle one for any in between.
import { z } from "zod";
import {
  type Channel,
  DEFAULT_TEMPLATES_BY_REASON,
  defaultTemplates,
  type MessageTemplate,
} from "./default_templates.ts";
import { parseTemplate } from "./template_syntax.ts";

export { TEMPLATE_VARIABLES, type TemplateVariable } from "./template_syntax.ts";
export {
  CASE_REASONS,
  type CaseReason,
  type Channel,
  DEFAULT_TEMPLATES_BY_REASON,
  type MessageTemplate,
} from "./default_templates.ts";

export const CHANNELS: readonly Channel[] = ["push", "dm"];

export interface TemplateOverrides {
  push?: Record<string, { title?: string; content?: string }>;
  dm?: Record<string, { content: string }>;
}

export const TITLE_MAX_CHARS = 100;
export const CONTENT_MAX_CHARS = 2000;
/** Push titles of the defaults stay short enough for a lock screen. */
export const DEFAULT_PUSH_TITLE_MAX_CHARS = 60;

/** The failed-payment defaults: what the settings page shows in a template field nobody changed. */
export const DEFAULT_TEMPLATES = DEFAULT_TEMPLATES_BY_REASON.payment_failed;

function templateText(max: number) {
  return z.string()
    .trim()
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`)
    .superRefine((text, ctx) => {
      const parsed = parseTemplate(text);
      if (!parsed.ok) { for (const message of parsed.errors) ctx.addIssue({ code: "custom", message }); }
    });
}

// "0", "1", ... without leading zeros, so each step has exactly one spelling.
const STEP_KEY_MESSAGE = 'steps are numbered "0" (first nudge), "1", "2", ...';
const stepKey = z.string().regex(/^(0|[1-9][0-9]{0,2})$/);

const pushEntry = z.strictObject({
  title: templateText(TITLE_MAX_CHARS).optional(),
  content: templateText(CONTENT_MAX_CHARS).optional(),
}).refine(
  (entry) => entry.title !== undefined || entry.content !== undefined,
  "give a title, a content or both",
);

const dmEntry = z.strictObject({ content: templateText(CONTENT_MAX_CHARS) });

const overridesSchema = z.strictObject({
  push: z.record(stepKey, pushEntry).optional(),
  dm: z.record(stepKey, dmEntry).optional(),
});

const entrySchemas: Record<Channel, z.ZodType<{ title?: string; content?: string }>> = {
  push: pushEntry,
  dm: dmEntry,
};

export type TemplateOverridesResult =
  | { ok: true; templates: TemplateOverrides }
  | { ok: false; errors: { path: string; message: string }[] };

/** Validates `company_settings.templates` (null = no overrides). Error paths read like "push.0.title". */
export function parseTemplateOverrides(value: unknown): TemplateOverridesResult {
  const result = overridesSchema.safeParse(value ?? {});
  if (result.success) return { ok: true, templates: result.data };
  return {
    ok: false,
    errors: result.error.issues.map((issue) => ({
      path: issue.path.join("."),
      message: issue.code === "invalid_key" ? STEP_KEY_MESSAGE : issue.message,
    })),
  };
}

/** A step (0 = first) of a schedule of `steps` nudges. */
export interface StepPosition {
  step: number;
  steps: number;
}

/** Which default wording a step gets: 0 first, 1 middle, 2 last. A one-step schedule's only message
 * is a first one: it explains the problem, and "our last reminder" would be its first word. */
export function defaultIndexFor({ step, steps }: StepPosition): 0 | 1 | 2 {
  const index = Number.isSafeInteger(step) && step >= 0 ? step : 0;
  if (index === 0) return 0;
  return index >= steps - 1 ? 2 : 1;
}

/** The default for a step's position and the case's reason. */
export function defaultTemplateFor(
  channel: Channel,
  position: StepPosition,
  reason?: string | null,
): MessageTemplate {
  return defaultTemplates(reason)[channel][defaultIndexFor(position)];
}

/** The template used for a step: the company's entry when it is valid on its own (one broken entry
 * does not disable the others), filled up from the default for the step's position and the case's
 * reason. Never throws. */
export function templateFor(
  channel: Channel,
  position: StepPosition,
  overrides: unknown,
  reason?: string | null,
): Required<MessageTemplate> {
  const fallback = defaultTemplateFor(channel, position, reason);
  const index = Number.isSafeInteger(position.step) && position.step >= 0 ? position.step : 0;
  const entry = entrySchemas[channel].safeParse(overrideEntry(overrides, channel, index));
  const custom = entry.success ? entry.data : {};
  return { title: custom.title ?? fallback.title ?? "", content: custom.content ?? fallback.content };
}

function overrideEntry(overrides: unknown, channel: Channel, step: number): unknown {
  if (!isRecord(overrides)) return undefined;
  const byStep = overrides[channel];
  return isRecord(byStep) && Object.hasOwn(byStep, String(step)) ? byStep[String(step)] : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
