// Nudge templates: friendly defaults per step (0 = first nudge, day 0; 1 = second; 2 = the last
// reminder before Whop gives up on the payment) and channel, and the per-company overrides kept in
// `company_settings.templates`:
//   { "push": { "0": { "title": "...", "content": "..." } }, "dm": { "1": { "content": "..." } } }
// A missing step or channel uses the default of that step; steps past the defaults use the last one.
// Every variable is optional in the defaults: sections `{?x}...{/x}` hold the parts that need a value.
import { z } from "zod";
import { parseTemplate } from "./template_syntax.ts";

export { TEMPLATE_VARIABLES, type TemplateVariable } from "./template_syntax.ts";

export type Channel = "push" | "dm";
export const CHANNELS: readonly Channel[] = ["push", "dm"];

export interface MessageTemplate {
  title?: string;
  content: string;
}

export interface TemplateOverrides {
  push?: Record<string, { title?: string; content?: string }>;
  dm?: Record<string, { content: string }>;
}

export const TITLE_MAX_CHARS = 100;
export const CONTENT_MAX_CHARS = 2000;
/** Push titles of the defaults stay short enough for a lock screen. */
export const DEFAULT_PUSH_TITLE_MAX_CHARS = 60;

const SIGN_OFF = "{?company}\n\n— {company}{/company}";

/** Push is plain text (no Markdown); DM content is Markdown. */
export const DEFAULT_TEMPLATES: Record<Channel, MessageTemplate[]> = {
  push: [
    {
      title: "Your payment didn't go through",
      content:
        "Hi {first_name}, we couldn't process your payment{?amount} of {amount}{/amount} for {product}. " +
        "Update your card to keep your access: {recovery_link}",
    },
    {
      title: "Quick reminder about your payment",
      content: "Hi {first_name}, the payment for {product} still needs attention. " +
        "{?free_days}Update it today and we'll add {free_days} free days on us. {/free_days}" +
        "It takes a minute: {recovery_link}",
    },
    {
      title: "Last reminder: keep your access",
      content: "Hi {first_name}, this is our last reminder. Your access to {product} ends soon unless " +
        "the payment{?amount} of {amount}{/amount} goes through. Update it here: {recovery_link}",
    },
  ],
  dm: [
    {
      content: "Hi {first_name}!\n\n" +
        "Just a heads-up: your payment{?amount} of {amount}{/amount} for **{product}** didn't go through. " +
        "That usually means a card expired or the bank declined the charge.\n\n" +
        "You can update your payment details here: {recovery_link}" + SIGN_OFF,
    },
    {
      content: "Hi {first_name}, just checking in.\n\n" +
        "The payment for **{product}** still hasn't gone through, so your access is at risk. " +
        "Updating it takes about a minute: {recovery_link}" +
        "{?free_days}\n\nAs a thank-you, we'll add **{free_days} free days** to your membership once " +
        "it's sorted.{/free_days}" + SIGN_OFF,
    },
    {
      content: "Hi {first_name}, this is our last reminder about **{product}**.\n\n" +
        "Your payment{?amount} of {amount}{/amount} still hasn't gone through, and your access will end " +
        "soon. You can keep it here: {recovery_link}" +
        "{?free_days}\n\nUpdate today and we'll add **{free_days} free days** on us.{/free_days}\n\n" +
        "Already sorted it out? Thank you, and please ignore this message." + SIGN_OFF,
    },
  ],
};

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

/** The template used for a step: the company's entry when it is valid on its own (one broken entry
 * does not disable the others), filled up from the step's default. Never throws. */
export function templateFor(channel: Channel, step: number, overrides: unknown): Required<MessageTemplate> {
  const defaults = DEFAULT_TEMPLATES[channel];
  const index = Number.isSafeInteger(step) && step >= 0 ? step : 0;
  const fallback = defaults[Math.min(index, defaults.length - 1)];
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
