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

export type TemplateNode =
  | { kind: "text"; text: string }
  | { kind: "variable"; name: TemplateVariable }
  | { kind: "section"; name: TemplateVariable; children: TemplateNode[] };

export type ParsedTemplate = { ok: true; nodes: TemplateNode[] } | { ok: false; errors: string[] };

const TOKEN = /\{([?/]?)([A-Za-z0-9_]+)\}/g;
const KNOWN = new Set<string>(TEMPLATE_VARIABLES);
const KNOWN_LIST = TEMPLATE_VARIABLES.map((name) => `{${name}}`).join(", ");

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
      const where = marker === "" ? "" : ` in ${token}`;
      errors.push(`unknown variable {${name}}${where}; variables are ${KNOWN_LIST}`);
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
      errors.push(`${token} has no matching {?${name}} before it`);
    }
  }
  if (last < text.length) current().push({ kind: "text", text: text.slice(last) });
  for (const section of open) errors.push(`{?${section.name}} is never closed with {/${section.name}}`);
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
