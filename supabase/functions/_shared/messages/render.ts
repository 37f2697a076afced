// Turns a step's template and one member's variables into the text that is sent. Values are inserted
// as literal text (Markdown-escaped for DMs, one clean line for push); missing values read naturally
// ("Hi there"). The recovery link is in every message that has one, because it is how recoveries are
// attributed; when Whop gave the case no destination the message goes without a link rather than with
// a dead one. A case's free days are announced by every message sent before they are granted (its
// delivery releases the grant) and spoken of as given afterwards. Rendering never fails on bad
// overrides: it falls back to the defaults.
import { cleanLink, escapeMarkdown, plainValue } from "./escape.ts";
import { formatAmount } from "./format_amount.ts";
import {
  type Channel,
  type StepPosition,
  templateFor,
  type TemplateOverrides,
  TITLE_MAX_CHARS,
} from "./templates.ts";
import { mentions, parseTemplate, type TemplateNode, type TemplateVariable } from "./template_syntax.ts";

export { formatAmount } from "./format_amount.ts";

export interface MessageVariables {
  firstName: string | null;
  productName: string | null;
  amountMinor: number | null;
  currency: string | null;
  /** Null when Whop gave the case nowhere to send the member: the message then has no link. */
  recoveryLink: string | null;
  /** The case's free days (0: no incentive). */
  freeDays: number;
  /** Whether the case's free days were granted before this message (else this message announces them). */
  freeDaysGiven: boolean;
  companyName: string | null;
}

/** push: title + plain-text content; dm: Markdown content and an empty title. */
export interface RenderedMessage {
  title: string;
  content: string;
}

/** What a variable reads as when it has no value. */
export const FALLBACK_VALUES: Readonly<
  Record<Exclude<TemplateVariable, "recovery_link" | "free_days" | "incentive">, string>
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

/** `reason` (the case's) and the step's position pick the default wording; the company's overrides
 * apply to every reason. */
export function renderMessage(
  channel: Channel,
  position: StepPosition,
  overrides: TemplateOverrides | unknown,
  vars: MessageVariables,
  reason?: string | null,
): RenderedMessage {
  const link = cleanLink(vars.recoveryLink);
  const values = variableValues(channel, vars, link);
  const template = templateFor(channel, position, overrides, reason);
  const separator = channel === "dm" ? "\n\n" : " ";

  let content = renderText(template.content, values).trim();
  // A message sent while the days wait for it is their announcement, whatever the creator wrote.
  if (values.incentive.present && !vars.freeDaysGiven && !mentionsFreeDays(template.content)) {
    content = content === "" ? values.incentive.text : `${content}${separator}${values.incentive.text}`;
  }
  if (link !== "" && !content.includes(link)) {
    content = content === "" ? link : `${content}${channel === "dm" ? "\n\n" : "\n"}${link}`;
  }
  if (channel === "dm") return { title: "", content };
  return {
    title: clip(renderText(template.title ?? "", values).replace(/\s+/g, " ").trim(), TITLE_MAX_CHARS),
    content,
  };
}

function mentionsFreeDays(text: string): boolean {
  const parsed = parseTemplate(text);
  return parsed.ok && (mentions(parsed.nodes, "incentive") || mentions(parsed.nodes, "free_days"));
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
    incentive: { text: incentiveText(channel, freeDays, vars.freeDaysGiven), present: freeDays > 0 },
    recovery_link: { text: link, present: link !== "" },
  };
}

/** The sentence about the case's free days: announced until they are granted, then given. */
function incentiveText(channel: Channel, days: number, given: boolean): string {
  const amount = `${days} free ${days === 1 ? "day" : "days"}`;
  const shown = channel === "dm" ? `**${amount}**` : amount;
  return given
    ? `We've already added ${shown} to your membership, on us.`
    : `We're adding ${shown} to your membership, on us.`;
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
  if (!parsed.ok) return template;
  return renderNodes(values.recovery_link.present ? parsed.nodes : withoutLink(parsed.nodes), values);
}

// What leads into a link: "here: ", " - ", ": ".
const LINK_LEAD_IN = /(?:\s+(?:right\s+)?here)?\s*[:\-\u2013\u2014]?\s*$/u;
const ENDS_SENTENCE = /[.!?\u2026)]$/u;

/** A message without a link: each {recovery_link} goes with what leads into it ("… here: "), and
 * the sentence it ended gets a full stop ("You can update your payment details."). */
function withoutLink(nodes: readonly TemplateNode[]): TemplateNode[] {
  const out: TemplateNode[] = [];
  nodes.forEach((node, i) => {
    if (node.kind === "section") {
      out.push({ ...node, children: withoutLink(node.children) });
      return;
    }
    if (node.kind !== "variable" || node.name !== "recovery_link") {
      out.push(node);
      return;
    }
    const before = out.at(-1);
    const next = nodes[i + 1];
    // "{recovery_link}." keeps the creator's own punctuation.
    const continues = next?.kind === "text" && /^[.,;:!?)]/u.test(next.text);
    if (before?.kind === "text") {
      const trimmed = before.text.replace(LINK_LEAD_IN, "");
      const stop = trimmed !== "" && !ENDS_SENTENCE.test(trimmed) && !continues ? "." : "";
      out[out.length - 1] = { kind: "text", text: trimmed + stop };
    }
  });
  return out;
}

function renderNodes(nodes: TemplateNode[], values: Record<TemplateVariable, Value>): string {
  return nodes.map((node, i) => {
    if (node.kind === "section") return values[node.name].present ? renderNodes(node.children, values) : "";
    if (node.kind === "variable") return isLeftOut(node, values) ? "" : values[node.name].text;
    const text = i > 0 && isOneFreeDay(nodes[i - 1], values) ? singularDays(node.text) : node.text;
    // The space or blank line that followed a left-out sentence goes with it.
    return i > 0 && isLeftOut(nodes[i - 1], values) ? text.replace(/^\s+/, "") : text;
  }).join("");
}

/** {incentive} written without a section, in a case without free days: the sentence is left out
 * (rather than announcing "0 free days"), so the free-days offer needs no `{?incentive}` around it. */
function isLeftOut(node: TemplateNode, values: Record<TemplateVariable, Value>): boolean {
  return node.kind === "variable" && node.name === "incentive" && !values.incentive.present;
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
