// Member- and creator-supplied values (names, product and company names) go into messages verbatim
// as text: never as formatting, links, mentions or extra lines. Template text itself is not touched.

const MAX_VALUE_CHARS = 80;
// Line and paragraph separators break lines like "\n" does; bidi overrides and zero-width characters
// can disguise text. Control characters (\p{Cc}) include "\n", "\r" and "\t".
const LINE_BREAKING = /[\p{Cc}\u2028\u2029]+/gu;
const INVISIBLE = /[\u200B\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

/** One line of plain text: control characters and line breaks become spaces, runs of whitespace one
 * space, invisible direction/zero-width characters go, and overly long values end in "…". */
export function plainValue(value: string | null | undefined): string {
  if (!value) return "";
  const text = value.replace(LINE_BREAKING, " ").replace(INVISIBLE, "").replace(/\s+/g, " ").trim();
  const chars = [...text];
  return chars.length > MAX_VALUE_CHARS ? `${chars.slice(0, MAX_VALUE_CHARS - 1).join("").trimEnd()}…` : text;
}

/** A URL of ours, inserted unescaped: only whitespace, control and invisible characters are removed
 * (never shortened, the token must survive). */
export function cleanLink(value: string | null | undefined): string {
  return (value ?? "").replace(LINE_BREAKING, "").replace(INVISIBLE, "").replace(/\s+/g, "");
}

// Every ASCII punctuation character that can start Markdown syntax, an autolink ("http://", "www."),
// a mention ("@"), an emoji shortcode (":x:") or HTML. Apostrophes, commas and question marks are
// inert and common in names, so they stay as they are.
const MARKDOWN_SPECIAL = /[!"#$%&()*+\-./:;<=>@[\\\]^_`{|}~]/g;

/** Backslash-escapes Markdown in a value so it renders literally (CommonMark escapes any ASCII
 * punctuation). Apply to values only, after plainValue. */
export function escapeMarkdown(value: string): string {
  return value.replace(MARKDOWN_SPECIAL, "\\$&");
}
