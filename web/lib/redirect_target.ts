/** Only absolute http(s) addresses are redirected to, whatever the database holds. */
export function redirectTarget(value: string | null | undefined): string | null {
  if (!value || !URL.canParse(value)) return null;
  const url = new URL(value);
  return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
}
