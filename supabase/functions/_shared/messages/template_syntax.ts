// The template language creators write: `{first_name}` inserts a variable, `{?free_days}...{/free_days}`
// keeps its text only when the variable has a value (non-zero, non-empty). Anything else in braces
// that is not a `{name}`-shaped token ("{ }", "{:)") stays literal text. Parsing once gives both the
// validation errors shown in settings and the tree that rendering walks.

export const TEMPLATE_VARIABLES = [
  "first_name",
  "product",
  "amount",
  "recovery_link",
  "free_days",
  "incentive",
  "company",
] as const;

export type TemplateVariable = typeof TEMPLATE_VARIABLES[number];

/** What each variable is called in words, for the editor's insert buttons and for error messages. */
export const VARIABLE_LABELS: Readonly<Record<TemplateVariable, string>> = {
  first_name: "First name",
  product: "Product",
  amount: "Amount",
  recovery_link: "Recovery link",
  free_days: "Number of free days",
  incentive: "Free-days offer",
  company: "Company name",
};

export type TemplateNode =
  | { kind: "text"; text: string }
  | { kind: "variable"; name: TemplateVariable }
  | { kind: "section"; name: TemplateVariable; children: TemplateNode[] };

export type ParsedTemplate = { ok: true; nodes: TemplateNode[] } | { ok: false; errors: string[] };

const TOKEN = /\{([?/]?)([A-Za-z0-9_]+)\}/g;
const KNOWN = new Set<string>(TEMPLATE_VARIABLES);
const KNOWN_LIST = TEMPLATE_VARIABLES.map((name) => `{${name}}`).join(", ");
const BY_SPELLING = new Map(TEMPLATE_VARIABLES.map((name) => [spelling(name), name]));

/** "{First_Name}", "{firstname}" and "{first-name}" are all spellings of {first_name}. */
function spelling(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

function unknownVariable(token: string, name: string): string {
  const meant = BY_SPELLING.get(spelling(name));
  if (meant) {
    return `unknown variable ${token}: did you mean {${meant}} (${VARIABLE_LABELS[meant].toLowerCase()})?`;
  }
  return `unknown variable ${token}: there is no variable called "${name}"; use one of ${KNOWN_LIST}`;
}

export function isTemplateVariable(name: string): name is TemplateVariable {
  return KNOWN.has(name);
}

export function parseTemplate(text: string): ParsedTemplate {
  const errors: string[] = [];
  const root: TemplateNode[] = [];
  const open: { name: TemplateVariable; children: TemplateNode[] }[] = [];
  const current = () => open.at(-1)?.children ?? root;
  let last = 0;

  for (const match of text.matchAll(TOKEN)) {
    const [token, marker, name] = match;
    if (match.index > last) current().push({ kind: "text", text: text.slice(last, match.index) });
    last = match.index + token.length;
    if (!isTemplateVariable(name)) {
      errors.push(unknownVariable(token, name));
      continue;
    }
    if (marker === "") {
      current().push({ kind: "variable", name });
    } else if (marker === "?") {
      open.push({ name, children: [] });
    } else if (open.at(-1)?.name === name) {
      const section = open.pop()!;
      current().push({ kind: "section", name, children: section.children });
    } else {
      errors.push(
        `${token} has no matching {?${name}} before it: it ends a part shown only when the ` +
          `${
            VARIABLE_LABELS[name].toLowerCase()
          } is known, so put {?${name}} where that part starts, or remove ${token}`,
      );
    }
  }
  if (last < text.length) current().push({ kind: "text", text: text.slice(last) });
  for (const { name } of open) {
    errors.push(
      `{?${name}} is never closed with {/${name}}: add {/${name}} after the words that should show only ` +
        `when the ${VARIABLE_LABELS[name].toLowerCase()} is known`,
    );
  }
  return errors.length ? { ok: false, errors: [...new Set(errors)] } : { ok: true, nodes: root };
}

/** Whether `{name}` is inserted anywhere outside a `{?name}` section, i.e. whether the text needs a
 * value for it. */
export function needsValue(nodes: readonly TemplateNode[], name: TemplateVariable): boolean {
  return nodes.some((node) =>
    node.kind === "variable"
      ? node.name === name
      : node.kind === "section" && node.name !== name && needsValue(node.children, name)
  );
}

/** Whether `{name}` or `{?name}` appears anywhere. */
export function mentions(nodes: readonly TemplateNode[], name: TemplateVariable): boolean {
  return nodes.some((node) =>
    node.kind !== "text" && (node.name === name || (node.kind === "section" && mentions(node.children, name)))
  );
}

/** When a `{?name}` part shows, in words: "the amount is known". */
export const SHOWN_WHEN: Readonly<Record<TemplateVariable, string>> = {
  first_name: "the first name is known",
  product: "the product is known",
  amount: "the amount is known",
  recovery_link: "there is a link to send",
  free_days: "there are free days",
  incentive: "there are free days",
  company: "your company name is known",
};

/** The template's optional parts (outermost first) and their variable, with whitespace collapsed:
 * what the editor explains in words. Empty when the text does not parse. */
export function optionalParts(text: string): { name: TemplateVariable; text: string }[] {
  const parsed = parseTemplate(text);
  if (!parsed.ok) return [];
  return parsed.nodes.flatMap((node) =>
    node.kind === "section"
      ? [{ name: node.name, text: source(node.children).replace(/\s+/g, " ").trim() }]
      : []
  );
}

function source(nodes: readonly TemplateNode[]): string {
  return nodes.map((node) =>
    node.kind === "text"
      ? node.text
      : node.kind === "variable"
      ? `{${node.name}}`
      : `{?${node.name}}${source(node.children)}{/${node.name}}`
  ).join("");
}
