// Event times as Whop sends them: ISO 8601 strings (v1), unix seconds (legacy v5) or, in v2 bodies,
// `2022-12-05 02:28:57 +0200` (a space before the time and before the offset). Anything that is
// not a real instant between 2015 and tomorrow is rejected: a wrong time would reorder the case state
// machine, which runs on event time, not arrival time.
import { EnvelopeError } from "./envelope_error.ts";

const EARLIEST_MS = Date.UTC(2015, 0, 1);
const MAX_AHEAD_MS = 86_400_000;
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)? ?(Z|([+-])(\d{2}):?(\d{2}))$/;
const UNIX_SECONDS_TEXT = /^\d{1,12}(?:\.\d{1,6})?$/;

/** A time given as ISO 8601 text, unix seconds, or unix seconds as text → ISO 8601 UTC. */
export function eventTimeToIso(value: string | number, field: string, nowMs = Date.now()): string {
  const ms = typeof value === "number" ? unixSecondsToMs(value, field) : textToMs(value, field);
  if (ms < EARLIEST_MS || ms > nowMs + MAX_AHEAD_MS) {
    throw new EnvelopeError(field, "is not a plausible event time");
  }
  return new Date(ms).toISOString();
}

/** How far ahead a scheduled time (a renewal period end, Whop's next retry) may plausibly be. */
const MAX_SCHEDULED_AHEAD_MS = 20 * 366 * 86_400_000;

/**
 * A time Whop schedules (`renewal_period_end`, `next_payment_attempt`) in any of the forms above →
 * ISO 8601 UTC, or null when it is absent or not a plausible instant (2015 to 20 years ahead). These
 * only inform the creator, so an odd value is dropped rather than getting the delivery refused.
 */
export function scheduledTimeToIso(value: unknown, nowMs = Date.now()): string | null {
  if (typeof value !== "string" && typeof value !== "number") return null;
  if (typeof value === "string" && value.length > 64) return null;
  let ms: number;
  try {
    ms = typeof value === "number" ? unixSecondsToMs(value, "time") : textToMs(value, "time");
  } catch (error) {
    if (error instanceof EnvelopeError) return null;
    throw error;
  }
  if (!(ms >= EARLIEST_MS && ms <= nowMs + MAX_SCHEDULED_AHEAD_MS)) return null;
  return new Date(ms).toISOString();
}

function unixSecondsToMs(seconds: number, field: string): number {
  if (!Number.isFinite(seconds)) throw new EnvelopeError(field, "must be a finite number");
  return Math.round(seconds * 1000);
}

function textToMs(text: string, field: string): number {
  if (UNIX_SECONDS_TEXT.test(text)) return unixSecondsToMs(Number(text), field);
  const match = ISO_8601.exec(text);
  // Date.parse alone accepts 2026-02-30 (as March 2) and hour 24; the fields are checked first.
  if (!match || !validCalendarFields(match)) throw new EnvelopeError(field, "must be an ISO 8601 time");
  const ms = Date.parse(canonicalIso(match));
  if (Number.isNaN(ms)) throw new EnvelopeError(field, "must be an ISO 8601 time");
  return ms;
}

/** The matched fields rewritten as the one ISO form Date.parse is specified to read. */
function canonicalIso(match: RegExpExecArray): string {
  const [, year, month, day, hour, minute, second = "00", fraction = "", zone, sign, offH, offM] = match;
  const offset = zone === "Z" ? "Z" : `${sign}${offH}:${offM}`;
  return `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction.slice(0, 4)}${offset}`;
}

function validCalendarFields(match: RegExpExecArray): boolean {
  const [, year, month, day, hour, minute, second = "0", , , , offsetHours = "0", offsetMinutes = "0"] =
    match;
  const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
  return Number(month) >= 1 && Number(month) <= 12 && Number(day) >= 1 && Number(day) <= daysInMonth &&
    Number(hour) <= 23 && Number(minute) <= 59 && Number(second) <= 59 && Number(offsetHours) <= 23 &&
    Number(offsetMinutes) <= 59;
}
