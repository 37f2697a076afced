// CSV as RFC 4180 writes it (CRLF line ends, fields with a comma, quote or line break in double
// quotes, quotes doubled), made safe to open in a spreadsheet: a cell that starts with = + - @ or a
// tab or carriage return would run as a formula (CSV injection, OWASP), so it gets a leading
// apostrophe, which spreadsheets show as text.
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** Put before the header row of a file meant for spreadsheets: without it Excel reads UTF-8 as the
 * system's legacy code page ("JosÃ©"); other spreadsheets and CSV readers skip it. */
export const UTF8_BOM = "\uFEFF";

export type CsvValue = string | number | bigint | boolean | null | undefined;

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  // A number prints as digits only ("-5" stays a number); any text that could start a formula is defused.
  if (typeof value === "string" && FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(values: readonly CsvValue[]): string {
  return values.map(csvCell).join(",") + "\r\n";
}
