// Turns a step's template and one member's variables into the text that is sent. Values are inserted
// as literal text (Markdown-escaped for DMs, one clean line for push); missing values read naturally
// ("Hi there"); and the recovery link is always in the message, because it is how recoveries are
// attributed. Rendering never fails on bad overrides: it falls back to the defaults.
import { cleanLink, escapeMarkdown, plainValue } from "./escape.ts";
import { formatAmount } from "./format_amount.ts";
import { type Channel, templateFor, type TemplateOverrides, TITLE_MAX_CHARS } from "./templates.ts";
import { parseTemplate, type TemplateNode, type TemplateVariable } from "./template_syntax.ts";

export { formatAmount } from "./format_amount.ts";

export interface MessageVariables {
  firstName: string | null;
  productName: string | null;
  amountMinor: number | null;
  currency: string | null;
  recoveryLink: string;
  freeDays: number;
  companyName: string | null;
}

/** push: title + plain-text content; dm: Markdown content and an empty title. */
export interface RenderedMessage {
  title: string;
  content: string;
}

/** What a variable reads as when it has no value. */
export const FALLBACK_VALUES: Readonly<
  Record<Exclude<TemplateVariable, "recovery_link" | "free_days">, string>
> = {
  first_name: "there",
  product: "your membership",
  amount: "the amount due",
  company: "the team",
};

interface Value {
  text: string;
  /** Whether `{?name}` sections show. */
  present: boolean;
}

/** Throws only for a missing recovery link (a caller bug: the message could not be attributed).
 * `reason` (the case's) picks the default wording; the company's overrides apply to every reason. */
export function renderMessage(
  channel: Channel,
  step: number,
  overrides: TemplateOverrides | unknown,
  vars: MessageVariables,
  reason?: string | null,
): RenderedMessage {
  const link = cleanLink(vars.recoveryLink);
  if (link === "") throw new Error("renderMessage: recoveryLink is required");
  const values = variableValues(channel, vars, link);
  const template = templateFor(channel, step, overrides, reason);

  let content = renderText(template.content, values).trim();
  if (!content.includes(link)) {
    content = content === "" ? link : `${content}${channel === "dm" ? "\n\n" : "\n"}${link}`;
  }
  if (channel === "dm") return { title: "", content };
  return {
    title: clip(renderText(template.title, values).replace(/\s+/g, " ").trim(), TITLE_MAX_CHARS),
    content,
  };
}

function variableValues(
  channel: Channel,
  vars: MessageVariables,
  link: string,
): Record<TemplateVariable, Value> {
  // Only text that members or creators typed is escaped; amounts and numbers are ours.
  const untrusted = (raw: string | null, fallback: string): Value => {
    const text = plainValue(raw);
    if (text === "") return { text: fallback, present: false };
    return { text: channel === "dm" ? escapeMarkdown(text) : text, present: true };
  };
  const amount = amountText(vars.amountMinor, vars.currency);
  const freeDays = Number.isSafeInteger(vars.freeDays) && vars.freeDays > 0 ? vars.freeDays : 0;
  return {
    first_name: untrusted(vars.firstName, FALLBACK_VALUES.first_name),
    product: untrusted(vars.productName, FALLBACK_VALUES.product),
    company: untrusted(vars.companyName, FALLBACK_VALUES.company),
    amount: amount === null
      ? { text: FALLBACK_VALUES.amount, present: false }
      : { text: amount, present: true },
    free_days: { text: String(freeDays), present: freeDays > 0 },
    recovery_link: { text: link, present: true },
  };
}

function amountText(amountMinor: number | null, currency: string | null): string | null {
  if (amountMinor === null || !currency) return null;
  try {
    return formatAmount(amountMinor, currency);
  } catch {
    return null; // A currency without a minor unit reads as "the amount due", not as a wrong number.
  }
}

function renderText(template: string, values: Record<TemplateVariable, Value>): string {
  const parsed = parseTemplate(template);
  // Overrides are checked before they are used and defaults are tested, so this is a last resort.
  return parsed.ok ? renderNodes(parsed.nodes, values) : template;
}

function renderNodes(nodes: TemplateNode[], values: Record<TemplateVariable, Value>): string {
  return nodes.map((node, i) => {
    if (node.kind === "section") return values[node.name].present ? renderNodes(node.children, values) : "";
    if (node.kind === "variable") return values[node.name].text;
    return i > 0 && isOneFreeDay(nodes[i - 1], values) ? singularDays(node.text) : node.text;
  }).join("");
}

/** "{free_days} days" / "{free_days} free days" read "1 day" / "1 free day" when the value is 1. */
function isOneFreeDay(previous: TemplateNode, values: Record<TemplateVariable, Value>): boolean {
  return previous.kind === "variable" && previous.name === "free_days" && values.free_days.text === "1";
}

function singularDays(text: string): string {
  return text.replace(/^((?: [\p{L}-]+)?) days\b/u, "$1 day");
}

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join("").trimEnd()}…` : text;
}
