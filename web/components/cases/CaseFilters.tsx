// The list's filters: a plain form, so it works without JavaScript. It posts, because its search is
// PII; the list it leads to has a shareable URL carrying the search encrypted (routes/dashboard/cases.tsx).
import {
  CASE_REASONS,
  CASE_SORTS,
  CASE_STATUSES,
  type ParsedCaseQuery,
  SEARCH_MAX_LENGTH,
} from "../../queries/case_filters.ts";
import { REASON_WORDS, SORT_WORDS, STATUS_WORDS } from "./CaseLabels.tsx";

type Field = "status" | "reason" | "from" | "to" | "q" | "sort";

export function CaseFilters(
  { action, raw, errors }: { action: string; raw: ParsedCaseQuery["raw"]; errors: ParsedCaseQuery["errors"] },
) {
  const invalid = (field: Field) =>
    errors[field] ? { "aria-invalid": "true" as const, "aria-describedby": `filter-${field}-error` } : {};
  const error = (field: Field) =>
    errors[field] && <span class="field-error" id={`filter-${field}-error`}>{errors[field]}</span>;

  return (
    <form class="filters cases-filters" method="post" action={action} role="search" aria-label="Filter cases">
      <label>
        Status
        <select name="status" {...invalid("status")}>
          <option value="">All statuses</option>
          {CASE_STATUSES.map((status) => (
            <option key={status} value={status} selected={raw.status === status}>
              {STATUS_WORDS[status]}
            </option>
          ))}
        </select>
        {error("status")}
      </label>
      <label>
        Reason
        <select name="reason" {...invalid("reason")}>
          <option value="">All reasons</option>
          {CASE_REASONS.map((reason) => (
            <option key={reason} value={reason} selected={raw.reason === reason}>
              {REASON_WORDS[reason]}
            </option>
          ))}
        </select>
        {error("reason")}
      </label>
      <label>
        Opened from
        <input type="date" name="from" value={raw.from} {...invalid("from")} />
        {error("from")}
      </label>
      <label>
        Opened to
        <input type="date" name="to" value={raw.to} {...invalid("to")} />
        {error("to")}
      </label>
      <label class="cases-filter-search">
        Member
        <input
          type="search"
          name="q"
          value={raw.q}
          placeholder="Name, email, username or Whop id"
          autocomplete="off"
          spellcheck={false}
          maxLength={SEARCH_MAX_LENGTH}
          {...invalid("q")}
        />
        {error("q")}
      </label>
      <label>
        Sort
        <select name="sort" {...invalid("sort")}>
          {CASE_SORTS.map((sort) => (
            <option key={sort} value={sort} selected={(raw.sort || "opened_desc") === sort}>
              {SORT_WORDS[sort]}
            </option>
          ))}
        </select>
        {error("sort")}
      </label>
      <div class="cases-filter-buttons">
        <button type="submit" class="button primary">Apply filters</button>
        <a class="button" href={action}>Clear</a>
      </div>
    </form>
  );
}
