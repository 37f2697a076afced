// Audit log entries in words ("You dismissed the case of Sarah Connor", "Another admin changed
// settings: send hour"), each with a compact before → after list of what changed.
import type { ComponentChildren } from "preact";
import type { AuditEntry } from "../../queries/activity.ts";
import { SETTINGS_FIELDS, type SettingsField } from "../../queries/settings.ts";
import { CANCEL_AUDIT_ACTION } from "../../queries/case_detail.ts";
import { STATUS_WORDS, words } from "../cases/CaseLabels.tsx";
import { DateTime } from "../ui.tsx";

/** An entry as the page shows it: with the name of the member its case is about, when known. */
export type ActivityEntry = AuditEntry & { caseMember?: string | null };

interface DiffRow {
  label: string;
  before: string;
  after: string;
}

const MAX_VALUE_CHARS = 70;
// Spaced, so the change reads "10:00 → 09:00" on screen and "10:00 changed to 09:00" aloud.
const ARROW = " → ";
const CHANGED_TO = " changed to ";

const SETTING_LABELS: Record<string, string> = {
  nudge_offsets_days: "nudge days",
  send_hour: "send hour",
  time_zone: "time zone",
  push_enabled: "push",
  dm_enabled: "direct messages",
  experience_id: "experience id",
  incentive_free_days: "free days",
  attribution_window_days: "attribution window",
  nudges_paused: "nudges",
  templates: "message templates",
};

export function ActivityList(
  { entries, companyId, viewerId }: { entries: ActivityEntry[]; companyId: string; viewerId: string },
) {
  return (
    <ol class="activity-list">
      {entries.map((entry) => {
        const { sentence, diff } = describeEntry(entry, companyId);
        return (
          <li key={entry.id} class="activity-entry">
            <div class="activity-line">
              <p class="activity-sentence">
                <Actor actor={entry.actor} viewerId={viewerId} /> {sentence}
              </p>
              <span class="muted">
                <DateTime value={entry.created_at} />
              </span>
            </div>
            {diff.length > 0 && (
              <ul class="activity-diff" aria-label="What changed">
                {diff.map((row) => (
                  <li key={row.label}>
                    <span class="diff-label">{`${row.label}: `}</span>
                    <span class="diff-before">{row.before}</span>
                    <span aria-hidden="true">{ARROW}</span>
                    <span class="sr-only">{CHANGED_TO}</span>
                    <span class="diff-after">{row.after}</span>
                  </li>
                ))}
              </ul>
            )}
          </li>
        );
      })}
    </ol>
  );
}

/**
 * Who did it, as a creator knows them: "You", another admin of the company (Whop user id on hover),
 * or Churn Saver's team for an operator's command (`cli:`, `ops:`).
 */
function Actor({ actor, viewerId }: { actor: string; viewerId: string }) {
  if (actor === viewerId) return <span class="actor" title={actor}>You</span>;
  if (actor.startsWith("user_")) return <span class="actor" title={actor}>Another admin</span>;
  if (/^(cli|ops|system):/.test(actor)) return <span class="actor" title={actor}>Churn Saver's team</span>;
  return <span class="actor">{actor}</span>;
}

export function describeEntry(
  entry: ActivityEntry,
  companyId: string,
): { sentence: ComponentChildren; diff: DiffRow[] } {
  const caseLink = entry.target_type === "recovery_case" && entry.target_id
    ? (
      <a href={`/dashboard/${companyId}/cases/${encodeURIComponent(entry.target_id)}`}>
        {entry.caseMember ? `the case of ${entry.caseMember}` : "a case"}
      </a>
    )
    : null;
  const after = asRecord(entry.after);
  switch (entry.action) {
    case "settings.update": {
      const diff = settingsDiff(asRecord(entry.before), after);
      return { sentence: <>changed settings: {diff.map((row) => row.label).join(", ")}</>, diff };
    }
    case "case.dismiss":
      // Only an open case can be dismissed, so that is what it was when the log does not say.
      return {
        sentence: <>dismissed {caseLink ?? "a case"}</>,
        diff: [{
          label: "status",
          before: words(STATUS_WORDS, String(asRecord(entry.before).status ?? "open")),
          after: words(STATUS_WORDS, String(after.status ?? "dismissed")),
        }],
      };
    case CANCEL_AUDIT_ACTION:
      return {
        sentence: (
          <>
            asked Whop to cancel the membership at the end of its billing period, for {caseLink ?? "a case"}
          </>
        ),
        diff: [],
      };
    case "case.nudge": {
      const channel = after.channel === "dm" ? "direct message" : after.channel === "push" ? "push" : "";
      return { sentence: <>sent a manual {channel} nudge for {caseLink ?? "a case"}</>, diff: [] };
    }
    default:
      return {
        sentence: (
          <>
            <code>{entry.action}</code>
            {caseLink
              ? <>{" on "}{caseLink}</>
              : entry.target_id
              ? ` on ${entry.target_type ?? ""} ${entry.target_id}`
              : ""}
          </>
        ),
        diff: genericDiff(entry),
      };
  }
}

function settingsDiff(before: Record<string, unknown>, after: Record<string, unknown>): DiffRow[] {
  const rows: DiffRow[] = [];
  // In the settings page's order (jsonb keeps keys in its own order).
  const fields = Object.keys({ ...before, ...after }).sort((a, b) => fieldOrder(a) - fieldOrder(b));
  for (const field of fields) {
    if (field === "templates") {
      rows.push(...templateDiff(asRecord(before.templates), asRecord(after.templates)));
      continue;
    }
    const label = SETTING_LABELS[field] ?? field;
    rows.push({
      label,
      before: settingValue(field, before[field]),
      after: settingValue(field, after[field]),
    });
  }
  return rows;
}

function days(value: unknown): string {
  return value === 1 ? "1 day" : `${value} days`;
}

function fieldOrder(field: string): number {
  const index = SETTINGS_FIELDS.indexOf(field as SettingsField);
  return index === -1 ? SETTINGS_FIELDS.length : index;
}

function settingValue(field: string, value: unknown): string {
  if (value === undefined || value === null) return field === "experience_id" ? "none" : "—";
  switch (field) {
    case "nudge_offsets_days":
      return Array.isArray(value) ? `days ${value.join(", ")}` : String(value);
    case "send_hour":
      return `${String(value).padStart(2, "0")}:00`;
    case "push_enabled":
    case "dm_enabled":
      return value ? "on" : "off";
    case "nudges_paused":
      return value ? "paused" : "running";
    case "incentive_free_days":
      return value === 0 ? "off" : days(value);
    case "attribution_window_days":
      return days(value);
    default:
      return clip(typeof value === "string" ? value : JSON.stringify(value));
  }
}

/** One row per template text that changed: "nudge 2 DM", "custom text" → "default". */
function templateDiff(before: Record<string, unknown>, after: Record<string, unknown>): DiffRow[] {
  const rows: DiffRow[] = [];
  for (const channel of ["push", "dm"]) {
    const b = asRecord(before[channel]);
    const a = asRecord(after[channel]);
    const steps = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort((x, y) => Number(x) - Number(y));
    for (const step of steps) {
      for (const part of channel === "push" ? ["title", "content"] : ["content"]) {
        const old = asRecord(b[step])[part];
        const now = asRecord(a[step])[part];
        if (old === now) continue;
        const what = channel === "dm" ? "direct message" : `push ${part === "title" ? "title" : "text"}`;
        rows.push({
          label: `nudge ${Number(step) + 1} ${what}`,
          before: templateText(old),
          after: templateText(now),
        });
      }
    }
  }
  return rows.length ? rows : [{ label: "message templates", before: "changed", after: "changed" }];
}

function templateText(value: unknown): string {
  return typeof value === "string" ? `“${clip(value.replace(/\s+/g, " "))}”` : "default";
}

function genericDiff(entry: AuditEntry): DiffRow[] {
  const before = asRecord(entry.before);
  const after = asRecord(entry.after);
  return Object.keys({ ...before, ...after }).map((key) => ({
    label: key.replaceAll("_", " "),
    before: key in before ? clip(display(before[key])) : "—",
    after: key in after ? clip(display(after[key])) : "—",
  }));
}

function display(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function clip(text: string): string {
  const chars = [...text];
  return chars.length > MAX_VALUE_CHARS ? `${chars.slice(0, MAX_VALUE_CHARS - 1).join("")}…` : text;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : {};
}
