// The case list's query string: filters (status, reason, opened date range, member search), sort and
// the keyset cursor, checked into typed values or into messages that name each problem. The CSV export
// reads the same query string, so a download always matches the list on screen.
//
// A member search (a name, an email, a username) never appears in a URL: the form posts it, and every
// link built from it (the list after the search, next page, CSV) carries it encrypted (`e`, bound to
// the company) instead of `q`.
import { decryptField, encryptField, type KeyRing } from "../../supabase/functions/_shared/crypto/pii.ts";
import { MAX_SEARCH_WORDS, searchWords } from "../../supabase/functions/_shared/crypto/search_tokens.ts";
import { decodeBase64Url, encodeBase64Url } from "../../supabase/functions/_shared/crypto/encoding.ts";
import { fitsBigint } from "../lib/postgres_values.ts";

export const CASE_STATUSES = ["open", "recovered", "lost", "expired", "dismissed"] as const;
export const CASE_REASONS = [
  "payment_failed",
  "action_required",
  "cancel_scheduled",
  "membership_deactivated",
] as const;
export const CASE_SORTS = ["opened_desc", "opened_asc", "amount_desc"] as const;

export type CaseStatus = (typeof CASE_STATUSES)[number];
export type CaseReason = (typeof CASE_REASONS)[number];
export type CaseSort = (typeof CASE_SORTS)[number];

export interface CaseFilters {
  status: CaseStatus | null;
  reason: CaseReason | null;
  /** Opened on or after this day (UTC), YYYY-MM-DD. */
  from: string | null;
  /** Opened on or before this day (UTC), YYYY-MM-DD. */
  to: string | null;
  /** What the creator searched for, trimmed: words of a name, email or username, or a Whop id. */
  search: string | null;
  sort: CaseSort;
}

/** Where a page starts: strictly after (or, going back, before) the row with this sort key and id. */
export interface CaseCursor {
  direction: "after" | "before";
  /** The sort column's value as Postgres prints it: a UTC timestamp with microseconds, or an integer. */
  key: string;
  id: string;
}

export type FilterField = "status" | "reason" | "from" | "to" | "q" | "sort" | "cursor";

export interface ParsedCaseQuery {
  filters: CaseFilters;
  cursor: CaseCursor | null;
  /** What the person typed, to show again in the form. */
  raw: Record<"status" | "reason" | "from" | "to" | "q" | "sort", string>;
  errors: Partial<Record<FilterField, string>>;
}

export const SEARCH_MAX_LENGTH = 320;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP_KEY = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;

const searchContext = (companyId: string) => `cases.search:${companyId}`;

export function parseCaseQuery(
  params: URLSearchParams,
  context: { ring: KeyRing; companyId: string },
): ParsedCaseQuery {
  const errors: ParsedCaseQuery["errors"] = {};
  const text = (name: string) => (params.get(name) ?? "").trim();

  const raw = {
    status: text("status"),
    reason: text("reason"),
    from: text("from"),
    to: text("to"),
    q: text("q"),
    sort: text("sort"),
  };

  const status = oneOf(CASE_STATUSES, raw.status);
  if (status === undefined) errors.status = "Choose a status from the list.";
  const reason = oneOf(CASE_REASONS, raw.reason);
  if (reason === undefined) errors.reason = "Choose a reason from the list.";
  const sort = raw.sort === "" ? "opened_desc" : oneOf(CASE_SORTS, raw.sort);
  if (!sort) errors.sort = "Choose a sort order from the list.";

  const from = raw.from === "" ? null : day(raw.from);
  if (from === undefined) errors.from = "Enter the start date as YYYY-MM-DD.";
  const to = raw.to === "" ? null : day(raw.to);
  if (to === undefined) errors.to = "Enter the end date as YYYY-MM-DD.";
  if (from && to && from > to) errors.to = "The end date is before the start date.";

  let search: string | null = null;
  if (raw.q === "" && params.has("e")) {
    // A link this page built: the search travels encrypted and only decrypts for this company.
    try {
      search = decryptField(context.ring, params.get("e") ?? "", searchContext(context.companyId));
    } catch {
      search = null;
    }
    if (search === null) errors.q = "This search link is not valid any more. Type the search again.";
    else raw.q = search;
  } else if (raw.q !== "") {
    const problem = searchProblem(raw.q);
    if (problem) errors.q = problem;
    else search = raw.q;
  }

  let cursor: CaseCursor | null = null;
  if (params.has("cursor")) {
    cursor = decodeCursor(params.get("cursor") ?? "", sort || "opened_desc");
    if (!cursor) errors.cursor = "This page link is broken or out of date. Start again from the first page.";
  }

  return {
    filters: {
      status: status ?? null,
      reason: reason ?? null,
      from: from ?? null,
      to: to ?? null,
      search,
      sort: sort || "opened_desc",
    },
    cursor,
    raw,
    errors,
  };
}

/** The query string of these filters (without cursor), for page links and the CSV link. */
export async function filterQuery(
  filters: CaseFilters,
  context: { ring: KeyRing; companyId: string },
): Promise<URLSearchParams> {
  const params = new URLSearchParams();
  if (filters.status) params.set("status", filters.status);
  if (filters.reason) params.set("reason", filters.reason);
  if (filters.from) params.set("from", filters.from);
  if (filters.to) params.set("to", filters.to);
  if (filters.search) {
    params.set("e", await encryptField(context.ring, filters.search, searchContext(context.companyId)));
  }
  if (filters.sort !== "opened_desc") params.set("sort", filters.sort);
  return params;
}

export function hasFilters(filters: CaseFilters): boolean {
  return Boolean(filters.status || filters.reason || filters.from || filters.to || filters.search);
}

/** Why a typed search cannot be used, in words; null when it can. */
function searchProblem(text: string): string | null {
  if (text.length > SEARCH_MAX_LENGTH) return `Search takes up to ${SEARCH_MAX_LENGTH} characters.`;
  const words = searchWords(text);
  if (words.length === 0) return "Type part of a member's name, email or username, or a Whop id.";
  if (words.length > MAX_SEARCH_WORDS) return `Search takes up to ${MAX_SEARCH_WORDS} words.`;
  return null;
}

/** Opaque to people, not a secret: base64url of the sort it belongs to, the direction and the key. */
export function encodeCursor(sort: CaseSort, cursor: CaseCursor): string {
  const json = JSON.stringify([sort, cursor.direction === "after" ? "a" : "b", cursor.key, cursor.id]);
  return encodeBase64Url(new TextEncoder().encode(json));
}

export function decodeCursor(text: string, sort: CaseSort): CaseCursor | null {
  const bytes = text.length <= 200 ? decodeBase64Url(text) : null;
  if (!bytes) return null;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 4) return null;
  const [cursorSort, direction, key, id] = value;
  // A cursor of another sort order would skip or repeat rows.
  if (cursorSort !== sort || (direction !== "a" && direction !== "b")) return null;
  if (typeof id !== "string" || !UUID.test(id) || typeof key !== "string") return null;
  if (!(sort === "amount_desc" ? fitsBigint(key) : isTimestampKey(key))) return null;
  return { direction: direction === "a" ? "after" : "before", key, id };
}

/**
 * A sort key as the list prints opened_at (UTC, microseconds) that is a real instant Postgres accepts:
 * the pattern alone lets `9999-99-99T99:99:99.000000Z` through to a failing query.
 */
function isTimestampKey(key: string): boolean {
  const match = TIMESTAMP_KEY.exec(key);
  if (!match) return false;
  const [, date, hours, minutes, seconds] = match;
  // Postgres has no year 0.
  return !date.startsWith("0000") && day(date) !== undefined && Number(hours) < 24 && Number(minutes) < 60 &&
    Number(seconds) < 60;
}

/** The first instant after `day` (UTC), as an ISO string: the exclusive end of a date range. */
export function dayAfter(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString();
}

function oneOf<T extends string>(allowed: readonly T[], value: string): T | null | undefined {
  if (value === "") return null;
  return (allowed as readonly string[]).includes(value) ? value as T : undefined;
}

function day(value: string): string | undefined {
  const match = DAY.exec(value);
  if (!match) return undefined;
  const date = new Date(`${value}T00:00:00Z`);
  // Rejects 2026-02-30 and friends, which Date would roll over into March.
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value) ? value : undefined;
}
