// The settings form as typed (strings and checkboxes) and its validation into CompanySettings.
// Template fields are prefilled with the text in use (the company's or the default); only text that
// differs from the default is saved as an override, so untouched steps keep following the defaults.
// Creators are met halfway where the intent is clear: a pasted experience link is reduced to its id,
// nudge days typed out of order are sorted. The incentive is an explicit choice (no free days, or N).
import { z } from "zod";
import {
  type Channel,
  DEFAULT_TEMPLATES,
  parseTemplateOverrides,
  templateFor,
  type TemplateOverrides,
} from "../../../supabase/functions/_shared/messages/templates.ts";
import type { CompanySettings } from "../../queries/settings.ts";

export const MAX_STEPS = 10;
export const EXPERIENCE_ID_PATTERN = /^exp_[A-Za-z0-9_-]{1,64}$/;
/** An experience id as one segment of a link (https://whop.com/joined/x/exp_XXXX/app/, ?experience=exp_…). */
const EXPERIENCE_ID_IN_LINK = /(?:^|[/?=&#])(exp_[A-Za-z0-9_-]{1,64})(?=$|[/?=&#])/g;

/** The incentive radio: "none" = no free days, "free_days" = the number typed; "" = not chosen yet. */
export type IncentiveChoice = "none" | "free_days" | "";

export const TIME_ZONES: readonly string[] = (() => {
  const zones = new Set(Intl.supportedValuesOf("timeZone"));
  zones.add("UTC");
  return [...zones].sort();
})();
const TIME_ZONE_SET = new Set(TIME_ZONES);

/** One template field: channel, step and part. Its form field is named `templates.<key>`. */
export interface TemplateField {
  channel: Channel;
  step: number;
  part: "title" | "content";
}

export const TEMPLATE_FIELD_PREFIX = "templates.";
const TEMPLATE_KEY = /^(push|dm)\.([0-9])\.(title|content)$/;

export function templateKey(field: TemplateField): string {
  return `${field.channel}.${field.step}.${field.part}`;
}

/** The fields of one step: push title and content, DM content. */
export function stepFields(step: number): TemplateField[] {
  return [
    { channel: "push", step, part: "title" },
    { channel: "push", step, part: "content" },
    { channel: "dm", step, part: "content" },
  ];
}

export interface SettingsFormValues {
  nudge_offsets_days: string;
  send_hour: string;
  time_zone: string;
  push_enabled: boolean;
  dm_enabled: boolean;
  experience_id: string;
  /** A pasted experience link or id; when given it wins over the experience chosen from the list. */
  experience_link: string;
  incentive_choice: IncentiveChoice;
  incentive_free_days: string;
  attribution_window_days: string;
  nudges_paused: boolean;
  /** templateKey → text. */
  templates: Record<string, string>;
}

/** Form field name → message. Template fields are named `templates.push.0.title` and so on. */
export type FieldErrors = Record<string, string>;

/** How many steps get template fields: one per scheduled nudge, and any step with an override. */
export function templateStepCount(settings: CompanySettings): number {
  let steps = settings.nudge_offsets_days.length;
  for (const channel of ["push", "dm"] as const) {
    for (const key of Object.keys(settings.templates[channel] ?? {})) {
      steps = Math.max(steps, Number(key) + 1);
    }
  }
  return Math.min(Math.max(steps, 1), MAX_STEPS);
}

/**
 * The form for saved settings. `incentiveChosen` false (set-up not done) leaves the incentive radio
 * unchosen, so saving asks the creator to pick one instead of keeping the default silently.
 */
export function settingsToForm(
  settings: CompanySettings,
  { incentiveChosen = true }: { incentiveChosen?: boolean } = {},
): SettingsFormValues {
  const templates: Record<string, string> = {};
  const steps = settings.nudge_offsets_days.length;
  for (let step = 0; step < templateStepCount(settings); step++) {
    for (const field of stepFields(step)) {
      templates[templateKey(field)] =
        templateFor(field.channel, { step, steps }, settings.templates)[field.part];
    }
  }
  return {
    nudge_offsets_days: settings.nudge_offsets_days.join(", "),
    send_hour: String(settings.send_hour),
    time_zone: settings.time_zone,
    push_enabled: settings.push_enabled,
    dm_enabled: settings.dm_enabled,
    experience_id: settings.experience_id ?? "",
    experience_link: "",
    incentive_choice: incentiveChosen ? (settings.incentive_free_days > 0 ? "free_days" : "none") : "",
    incentive_free_days: settings.incentive_free_days > 0 ? String(settings.incentive_free_days) : "",
    attribution_window_days: String(settings.attribution_window_days),
    nudges_paused: settings.nudges_paused,
    templates,
  };
}

/** The submitted form as typed (what the page shows again when something needs a fix). */
export function formValuesFromBody(body: Record<string, unknown>): SettingsFormValues {
  const text = (name: string) => (typeof body[name] === "string" ? body[name] as string : "");
  const templates: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (!name.startsWith(TEMPLATE_FIELD_PREFIX) || typeof value !== "string") continue;
    const key = name.slice(TEMPLATE_FIELD_PREFIX.length);
    if (TEMPLATE_KEY.test(key)) templates[key] = value.replace(/\r\n?/g, "\n");
  }
  return {
    nudge_offsets_days: text("nudge_offsets_days"),
    send_hour: text("send_hour"),
    time_zone: text("time_zone"),
    push_enabled: body.push_enabled !== undefined,
    dm_enabled: body.dm_enabled !== undefined,
    experience_id: text("experience_id"),
    experience_link: text("experience_link"),
    incentive_choice: incentiveChoiceOf(text("incentive_choice")),
    incentive_free_days: text("incentive_free_days"),
    attribution_window_days: text("attribution_window_days"),
    nudges_paused: body.nudges_paused !== undefined,
    templates,
  };
}

function incentiveChoiceOf(value: string): IncentiveChoice {
  return value === "none" || value === "free_days" ? value : "";
}

/**
 * The experience id in what the creator gave: the id itself, or a link with the id as one of its
 * segments. "missing" when there is none, "ambiguous" when a link names two different experiences.
 */
export function experienceIdFrom(text: string): string | "missing" | "ambiguous" {
  const trimmed = text.trim();
  if (EXPERIENCE_ID_PATTERN.test(trimmed)) return trimmed;
  const ids = new Set([...trimmed.matchAll(EXPERIENCE_ID_IN_LINK)].map((match) => match[1]));
  if (ids.size === 1) return [...ids][0];
  return ids.size === 0 ? "missing" : "ambiguous";
}

/** The overrides a form's template fields stand for: text that is neither empty nor the default. */
export function overridesFromForm(templates: Record<string, string>): Record<string, unknown> {
  const overrides: Record<string, Record<string, Record<string, string>>> = {};
  for (const [key, raw] of Object.entries(templates)) {
    const match = TEMPLATE_KEY.exec(key);
    if (!match) continue;
    const [, channel, step, part] = match as unknown as [string, Channel, string, "title" | "content"];
    if (channel === "dm" && part === "title") continue;
    const text = raw.trim();
    // Any default wording counts as "untouched": which one a step shows depends on the schedule's
    // length, which may change in the same submission.
    const isDefault = DEFAULT_TEMPLATES[channel].some((fallback) => text === (fallback[part] ?? "").trim());
    if (text === "" || isDefault) continue;
    ((overrides[channel] ??= {})[step] ??= {})[part] = text;
  }
  return overrides;
}

function wholeNumber(min: number, max: number, message: string) {
  return z.string().trim().regex(/^\d{1,6}$/, message).transform(Number).pipe(
    z.number().min(min, message).max(max, message),
  );
}

const offsetsSchema = z.string().transform((text, ctx) => {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const notNumber = parts.find((part) => !/^\d{1,3}$/.test(part));
  if (parts.length === 0 || notNumber !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: notNumber === undefined
        ? "Enter the days to nudge on, like 0, 2, 4."
        : `"${notNumber.slice(0, 12)}" is not a whole number of days. Enter days like 0, 2, 4.`,
    });
    return z.NEVER;
  }
  const days = parts.map(Number);
  const twice = days.find((day, i) => days.indexOf(day) !== i);
  if (twice !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: `Day ${twice} is listed twice. List each day once, like 0, 2, 4.`,
    });
    return z.NEVER;
  }
  // In the order they go out, whatever order they were typed in.
  return days.sort((a, b) => a - b);
}).pipe(
  z.array(z.number().max(30, "Days go from 0 (when the case opens) to 30."))
    .max(MAX_STEPS, `At most ${MAX_STEPS} nudges per case.`),
);

const EXPERIENCE_HELP =
  "Choose the experience from the list, or paste its link from Whop (it contains exp_…).";

/** An experience link or id as typed (or chosen from the list), to its id; "" = none. */
const experienceSchema = z.string().transform((text, ctx) => {
  if (text.trim() === "") return "";
  const id = experienceIdFrom(text);
  if (id === "missing" || id === "ambiguous") {
    ctx.addIssue({
      code: "custom",
      message: id === "ambiguous"
        ? "This link names more than one experience. Open the experience on Whop and copy its own link."
        : `No experience id (exp_…) in "${text.trim().slice(0, 40)}". ${EXPERIENCE_HELP}`,
    });
    return z.NEVER;
  }
  return id;
});

const templatesSchema = z.record(z.string(), z.unknown()).transform((raw, ctx) => {
  const parsed = parseTemplateOverrides(raw);
  if (parsed.ok) return parsed.templates;
  for (const error of parsed.errors) {
    ctx.addIssue({ code: "custom", message: sentence(error.message), path: error.path.split(".") });
  }
  return z.NEVER;
});

const FREE_DAYS_MESSAGE = "Enter a whole number of free days from 1 to 1095, or choose no free days.";

/** The radio and the days typed beside it, to the free days a case offers (0 = none). */
const incentiveSchema = z.object({ choice: z.string(), days: z.string() }).transform((incentive, ctx) => {
  if (incentive.choice === "none") return 0;
  if (incentive.choice !== "free_days") {
    ctx.addIssue({
      code: "custom",
      path: ["choice"],
      message: "Choose whether members get free days: no free days, or a number of free days.",
    });
    return z.NEVER;
  }
  const days = incentive.days.trim();
  if (!/^\d{1,6}$/.test(days) || Number(days) < 1 || Number(days) > 1095) {
    ctx.addIssue({ code: "custom", path: ["days"], message: FREE_DAYS_MESSAGE });
    return z.NEVER;
  }
  return Number(days);
});

const formSchema = z.object({
  nudge_offsets_days: offsetsSchema,
  send_hour: wholeNumber(0, 23, "Choose an hour from 0 to 23."),
  time_zone: z.string().refine((zone) => TIME_ZONE_SET.has(zone), "Choose a time zone from the list."),
  channels: z.object({ push: z.boolean(), dm: z.boolean() }).refine(
    (channels) => channels.push || channels.dm,
    "Keep at least one channel on. To stop nudging for now, use “Pause all nudges” instead.",
  ),
  experience_id: experienceSchema,
  experience_link: experienceSchema,
  incentive: incentiveSchema,
  attribution_window_days: wholeNumber(1, 90, "Enter a whole number of days from 1 to 90."),
  nudges_paused: z.boolean(),
  templates: templatesSchema,
});

export type ParsedSettingsForm =
  | { ok: true; settings: CompanySettings }
  | { ok: false; errors: FieldErrors };

export function parseSettingsForm(values: SettingsFormValues): ParsedSettingsForm {
  const result = formSchema.safeParse({
    ...values,
    channels: { push: values.push_enabled, dm: values.dm_enabled },
    incentive: { choice: values.incentive_choice, days: values.incentive_free_days },
    templates: overridesFromForm(values.templates),
  });
  if (!result.success) {
    const errors: FieldErrors = {};
    for (const issue of result.error.issues) {
      const name = issue.path[0] === "templates"
        ? issue.path.map(String).join(".")
        : issue.path[0] === "incentive"
        ? (issue.path[1] === "days" ? "incentive_free_days" : "incentive_choice")
        : String(issue.path[0] ?? "form");
      errors[name] ??= issue.message;
    }
    return { ok: false, errors };
  }
  const data = result.data;
  return {
    ok: true,
    settings: {
      nudge_offsets_days: data.nudge_offsets_days,
      send_hour: data.send_hour,
      time_zone: data.time_zone,
      push_enabled: data.channels.push,
      dm_enabled: data.channels.dm,
      experience_id: (data.experience_link || data.experience_id) || null,
      incentive_free_days: data.incentive,
      attribution_window_days: data.attribution_window_days,
      nudges_paused: data.nudges_paused,
      templates: data.templates as TemplateOverrides,
    },
  };
}

function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
