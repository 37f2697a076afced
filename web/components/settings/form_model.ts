// The settings form as typed (strings and checkboxes) and its validation into CompanySettings.
// Template fields are prefilled with the text in use (the company's or the default); only text that
// differs from the default is saved as an override, so untouched steps keep following the defaults.
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

export function settingsToForm(settings: CompanySettings): SettingsFormValues {
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
    incentive_free_days: String(settings.incentive_free_days),
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
    incentive_free_days: text("incentive_free_days"),
    attribution_window_days: text("attribution_window_days"),
    nudges_paused: body.nudges_paused !== undefined,
    templates,
  };
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
  return parts.map(Number);
}).pipe(
  z.array(z.number().max(30, "Days go from 0 (when the case opens) to 30."))
    .max(MAX_STEPS, `At most ${MAX_STEPS} nudges per case.`)
    .refine(
      (days) => days.every((day, i) => i === 0 || day > days[i - 1]),
      "List each day once, in increasing order, like 0, 2, 4.",
    ),
);

const templatesSchema = z.record(z.string(), z.unknown()).transform((raw, ctx) => {
  const parsed = parseTemplateOverrides(raw);
  if (parsed.ok) return parsed.templates;
  for (const error of parsed.errors) {
    ctx.addIssue({ code: "custom", message: sentence(error.message), path: error.path.split(".") });
  }
  return z.NEVER;
});

const formSchema = z.object({
  nudge_offsets_days: offsetsSchema,
  send_hour: wholeNumber(0, 23, "Choose an hour from 0 to 23."),
  time_zone: z.string().refine((zone) => TIME_ZONE_SET.has(zone), "Choose a time zone from the list."),
  channels: z.object({ push: z.boolean(), dm: z.boolean() }).refine(
    (channels) => channels.push || channels.dm,
    "Keep at least one channel on. To stop nudging for now, use “Pause all nudges” instead.",
  ),
  experience_id: z.string().trim().refine(
    (id) => id === "" || EXPERIENCE_ID_PATTERN.test(id),
    "An experience id looks like exp_XXXXXXXX (leave it empty if you have none).",
  ),
  incentive_free_days: wholeNumber(0, 1095, "Enter a whole number of days from 0 (no incentive) to 1095."),
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
    templates: overridesFromForm(values.templates),
  });
  if (!result.success) {
    const errors: FieldErrors = {};
    for (const issue of result.error.issues) {
      const name = issue.path[0] === "templates"
        ? issue.path.map(String).join(".")
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
      experience_id: data.experience_id === "" ? null : data.experience_id,
      incentive_free_days: data.incentive_free_days,
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
