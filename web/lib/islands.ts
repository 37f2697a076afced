// Islands: small interactive parts of server-rendered pages. A page renders
//   <div data-island="<name>" data-props='<json>'>…server-rendered fallback…</div>
// (spread `islandAttrs(name, props)` on the element) and passes `islandScript(name)` in `scripts`;
// the island's bundle (web/islands/<name>.tsx, built by `deno task build:islands`) calls
// `mountIslands(name, Component)`, which renders the component into every such element with the
// parsed props. Props must be JSON-serialisable. Without the bundle the fallback stays, so every
// page works without JavaScript.
import { type ComponentType, h, render } from "preact";
import { log } from "../../supabase/functions/_shared/log.ts";

// ---- server side ------------------------------------------------------------------------------

let manifest: Record<string, string> | null | undefined;
const warned = new Set<string>();

/** Reads a manifest written by scripts/build_islands.ts; null when it is missing or unreadable. */
export function readIslandManifest(
  url: URL = new URL("../static/islands/manifest.json", import.meta.url),
): Record<string, string> | null {
  try {
    const parsed: unknown = JSON.parse(Deno.readTextFileSync(url));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
    return Object.fromEntries(
      Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
    );
  } catch {
    return null;
  }
}

/** The bundle URL of an island ("/static/islands/<name>.<hash>.js"), or null when it was not built
 * (logged once per island; the page then shows its server-rendered fallback). The manifest is read
 * once, on first use. */
export function islandScript(name: string): string | null {
  if (manifest === undefined) manifest = readIslandManifest();
  const src = manifest?.[name] ?? null;
  if (src === null && !warned.has(name)) {
    warned.add(name);
    log.warn("island bundle missing; run `deno task build:islands`", { island: name });
  }
  return src;
}

/** The attributes of an island's root element. */
export function islandAttrs(name: string, props: object): Record<string, string> {
  return { "data-island": name, "data-props": JSON.stringify(props) };
}

// ---- browser side (runs inside the island bundles) --------------------------------------------

/** Renders `Component` into every `[data-island="<name>"]` of the page with its props. An element
 * whose props cannot be parsed keeps its fallback. */
export function mountIslands<P extends object>(name: string, Component: ComponentType<P>): void {
  for (const element of document.querySelectorAll<HTMLElement>(`[data-island="${name}"]`)) {
    let props: P;
    try {
      props = JSON.parse(element.dataset.props ?? "{}") as P;
    } catch {
      console.warn(`island ${name}: data-props is not JSON; keeping the fallback`);
      continue;
    }
    element.textContent = "";
    render(h(Component, props), element);
  }
}
