// The one error normalisation throws for bad input. The webhook function answers 400 with its message
// and may log it, so the message names the field and the problem but never repeats the input value
// (which may be an email, a name or anything an attacker sent).
import type { z } from "zod";

export class EnvelopeError extends Error {
  /** Path of the offending field as written in messages, e.g. `data.user.email` or `webhook-id`. */
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = "EnvelopeError";
    this.field = field;
  }
}

/** `["data", "line_items", 0, "total"]` → `data.line_items[0].total`; the root is called `body`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || "body";
}

/** The first zod issue as an EnvelopeError. `input` is what was parsed (found at `prefix` in the
 * body), used only to tell a missing field from a wrong one; no value from it reaches the message. */
export function envelopeErrorFromZod(
  error: z.ZodError,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): EnvelopeError {
  const issue = error.issues[0];
  if (!issue) return new EnvelopeError(fieldPath(prefix), "is invalid");
  const problem = describeIssue(issue, valueAt(input, issue.path));
  return new EnvelopeError(fieldPath([...prefix, ...issue.path]), problem);
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) return "is required";
      return `must be ${withArticle(issue.expected)}`;
    case "too_big":
      if (issue.origin === "string") return `is longer than ${issue.maximum} characters`;
      if (issue.origin === "array") return `has more than ${issue.maximum} items`;
      return "is too large";
    case "too_small":
      if (issue.origin === "string") return "must not be empty";
      return "is too small";
    case "invalid_union":
      // Every union in envelope.ts carries its own message.
      return value === undefined ? "is required" : issue.message;
    case "custom":
      return issue.message;
    default:
      return "is invalid";
  }
}

function withArticle(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
