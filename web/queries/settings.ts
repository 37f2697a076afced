// A company's nudge settings (public.company_settings): read them, save a change, and audit it.
// Every function takes the tenant transaction from withTenant, so RLS scopes it to the viewer's
// company; the queries filter by company as well.
import type { TemplateOverrides } from "../../supabase/functions/_shared/messages/templates.ts";
import type postgres from "postgres";
import type { TenantSql } from "../lib/tenant.ts";

export interface CompanySettings {
  nudge_offsets_days: number[];
  send_hour: number;
  time_zone: string;
  push_enabled: boolean;
  dm_enabled: boolean;
  experience_id: string | null;
  incentive_free_days: number;
  attribution_window_days: number;
  nudges_paused: boolean;
  templates: TemplateOverrides;
}

export type SettingsField = keyof CompanySettings;

export const SETTINGS_FIELDS: readonly SettingsField[] = [
  "nudge_offsets_days",
  "send_hour",
  "time_zone",
  "push_enabled",
  "dm_enabled",
  "experience_id",
  "incentive_free_days",
  "attribution_window_days",
  "nudges_paused",
  "templates",
];

/** The column defaults, for a company whose settings row does not exist yet. */
export const DEFAULT_SETTINGS: CompanySettings = {
  nudge_offsets_days: [0, 2, 4],
  send_hour: 10,
  time_zone: "UTC",
  push_enabled: true,
  dm_enabled: true,
  experience_id: null,
  incentive_free_days: 3,
  attribution_window_days: 14,
  nudges_paused: false,
  templates: {},
};

export const SETTINGS_AUDIT_ACTION = "settings.update";

/**
 * Where the company's set-up stands (the checklist): the experience pushes come from (not needed
 * while push is off), and whether the creator has chosen the time zone and the incentive, which
 * saving the settings form records (20261208020100_setup_choices.sql).
 */
export interface SetupState {
  experienceChosen: boolean;
  pushEnabled: boolean;
  timeZoneChosen: boolean;
  incentiveChosen: boolean;
  done: boolean;
}

export async function loadSetupState(tx: TenantSql, companyId: string): Promise<SetupState> {
  const [row] = await tx<
    { experience_id: string | null; push_enabled: boolean; time_zone: boolean; incentive: boolean }[]
  >`
    select experience_id, push_enabled, time_zone_chosen_at is not null as time_zone,
           incentive_chosen_at is not null as incentive
    from public.company_settings where company_id = ${companyId}`;
  const state = {
    experienceChosen: row?.experience_id != null,
    pushEnabled: row?.push_enabled ?? true,
    timeZoneChosen: row?.time_zone ?? false,
    incentiveChosen: row?.incentive ?? false,
  };
  return {
    ...state,
    done: (state.experienceChosen || !state.pushEnabled) && state.timeZoneChosen && state.incentiveChosen,
  };
}

/** The company's settings, or null when it has no settings row (its company row came without one). */
export async function loadSettings(tx: TenantSql, companyId: string, forUpdate = false) {
  const rows = forUpdate
    ? await tx<CompanySettings[]>`
        select nudge_offsets_days, send_hour, time_zone, push_enabled, dm_enabled, experience_id,
               incentive_free_days, attribution_window_days, nudges_paused, templates
        from public.company_settings where company_id = ${companyId} for update`
    : await tx<CompanySettings[]>`
        select nudge_offsets_days, send_hour, time_zone, push_enabled, dm_enabled, experience_id,
               incentive_free_days, attribution_window_days, nudges_paused, templates
        from public.company_settings where company_id = ${companyId}`;
  return rows[0] ? normalise(rows[0]) : null;
}

/** The currency of the company's latest case, for sample amounts; "usd" before the first one. */
export async function latestCurrency(tx: TenantSql, companyId: string): Promise<string> {
  const [row] = await tx<{ currency: string }[]>`
    select currency from public.recovery_cases
    where company_id = ${companyId} and currency is not null
    order by opened_at desc limit 1`;
  return row?.currency ?? "usd";
}

export interface SettingsChange {
  before: Partial<CompanySettings>;
  after: Partial<CompanySettings>;
}

/** The fields that differ, with their old and new values; null when nothing changed. */
export function changedFields(before: CompanySettings, after: CompanySettings): SettingsChange | null {
  const change: SettingsChange = { before: {}, after: {} };
  for (const field of SETTINGS_FIELDS) {
    if (canonicalJson(before[field]) === canonicalJson(after[field])) continue;
    (change.before as Record<string, unknown>)[field] = before[field];
    (change.after as Record<string, unknown>)[field] = after[field];
  }
  return Object.keys(change.after).length ? change : null;
}

export type SaveOutcome = "saved" | "unchanged" | "no_settings";

/**
 * Saves `next` when it differs from what is stored, and appends an audit_log row with the changed
 * fields only (before and after). The row is locked while comparing, so two saves cannot audit the
 * same "before". A save is also the creator's choice of the time zone and the incentive the form
 * shows: the first one records when they were chosen, even when no value changed ("saved" then).
 */
export async function saveSettings(
  tx: TenantSql,
  viewer: { companyId: string; userId: string },
  next: CompanySettings,
): Promise<SaveOutcome> {
  const current = await loadSettings(tx, viewer.companyId, true);
  if (!current) return "no_settings";
  const firstChoice = await tx`
    update public.company_settings set
      time_zone_chosen_at = coalesce(time_zone_chosen_at, now()),
      incentive_chosen_at = coalesce(incentive_chosen_at, now())
    where company_id = ${viewer.companyId} and (time_zone_chosen_at is null or incentive_chosen_at is null)`;
  const change = changedFields(current, next);
  if (!change) return firstChoice.count > 0 ? "saved" : "unchanged";
  await tx`
    update public.company_settings set
      nudge_offsets_days = ${`{${next.nudge_offsets_days.join(",")}}`}::smallint[],
      send_hour = ${next.send_hour},
      time_zone = ${next.time_zone},
      push_enabled = ${next.push_enabled},
      dm_enabled = ${next.dm_enabled},
      experience_id = ${next.experience_id},
      incentive_free_days = ${next.incentive_free_days},
      attribution_window_days = ${next.attribution_window_days},
      nudges_paused = ${next.nudges_paused},
      templates = ${tx.json(asJson(next.templates))}
    where company_id = ${viewer.companyId}`;
  const [before, after] = [tx.json(asJson(change.before)), tx.json(asJson(change.after))];
  await tx`
    insert into public.audit_log (company_id, actor, action, target_type, target_id, before, after)
    values (${viewer.companyId}, ${viewer.userId}, ${SETTINGS_AUDIT_ACTION}, 'company_settings',
            ${viewer.companyId}, ${before}, ${after})`;
  return "saved";
}

// postgres.js sends jsonb through tx.json (a plain string would be stored as a JSON string).
function asJson(value: object): postgres.JSONValue {
  return value as postgres.JSONValue;
}

function normalise(row: CompanySettings): CompanySettings {
  return {
    ...row,
    nudge_offsets_days: row.nudge_offsets_days.map(Number),
    templates: isRecord(row.templates) ? row.templates as TemplateOverrides : {},
  };
}

/** JSON with object keys sorted, so jsonb's key order does not count as a change. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, item) =>
      isRecord(item)
        ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : item,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
