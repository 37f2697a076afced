// The dashboard's two palettes (web/static/app.css for light, dark.css for dark): every colour of the
// stylesheets comes from them, both define the same properties, and text stays readable in both
// (WCAG contrast: 4.5:1 for text, 3:1 for lines, bars and the bold accent).
import assert from "node:assert/strict";

const STATIC = new URL("../../web/static/", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, STATIC));

/** The custom properties of the first `:root { ... }` block of a stylesheet. */
function palette(css: string): Map<string, string> {
  const block = /:root\s*\{([^}]*)\}/.exec(css)?.[1] ?? "";
  return new Map([...block.matchAll(/(--[\w-]+):\s*([^;]+);/g)].map((m) => [m[1], m[2].trim()]));
}

function luminance(hex: string): number {
  const match = /^#([0-9a-f]{6})$/i.exec(hex);
  assert.ok(match, `${hex} is a #rrggbb colour`);
  const channel = (i: number) => {
    const c = parseInt(match[1].slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** [foreground, background, minimum ratio]: the pairs the stylesheets put on top of each other. */
const PAIRS: Array<[string, string, number]> = [
  ["--fg", "--bg", 4.5],
  ["--fg", "--card", 4.5],
  ["--fg", "--card-alt", 4.5],
  ["--fg", "--control-bg", 4.5],
  ["--fg", "--hover", 4.5],
  ["--muted", "--bg", 4.5],
  ["--muted", "--card", 4.5],
  ["--muted", "--card-alt", 4.5],
  ["--muted", "--hover", 4.5],
  ["--link", "--card", 4.5],
  ["--link", "--bg", 4.5],
  ["--accent-text", "--accent-tint", 4.5],
  ["--good-fg", "--good-bg", 4.5],
  ["--good-fg", "--card", 4.5],
  ["--warn-fg", "--warn-bg", 4.5],
  ["--bad-fg", "--bad-bg", 4.5],
  ["--bad-fg", "--card", 4.5],
  ["--neutral-fg", "--neutral-bg", 4.5],
  ["--info-fg", "--info-bg", 4.5],
  ["--on-accent", "--accent", 3],
  ["--accent", "--card", 3],
  ["--focus", "--bg", 3],
  ["--focus", "--card", 3],
  ["--line", "--card", 3],
  ["--good-strong", "--card", 3],
  ["--bad-strong", "--card", 3],
  ["--info-strong", "--card", 3],
  ["--grey-strong", "--card", 3],
];

for (const file of ["app.css", "dark.css"]) {
  Deno.test(`${file}: text and lines are readable on their backgrounds`, async () => {
    const colours = palette(await read(file));
    const failures = PAIRS.flatMap(([fg, bg, min]) => {
      const ratio = contrast(colours.get(fg)!, colours.get(bg)!);
      return ratio >= min ? [] : [`${fg} on ${bg}: ${ratio.toFixed(2)} < ${min}`];
    });
    assert.deepEqual(failures, []);
  });
}

Deno.test("the dark palette defines exactly the light palette's colours", async () => {
  const light = palette(await read("app.css"));
  const dark = palette(await read("dark.css"));
  const colourNames = (p: Map<string, string>) =>
    [...p.keys()].filter((name) => /^#|^rgba?\(/.test(p.get(name)!)).sort();
  assert.ok(colourNames(light).length >= 30);
  assert.deepEqual(colourNames(dark), colourNames(light));
});

Deno.test("every colour of the stylesheets comes from the palette", async () => {
  const files = ["app.css"];
  for await (const entry of Deno.readDir(new URL("css/", STATIC))) files.push(`css/${entry.name}`);
  for (const file of files) {
    // Everything after the palette block (app.css) or the whole file (the others), comments aside.
    const css = (await read(file)).replace(/\/\*[\s\S]*?\*\//g, "");
    const body = file === "app.css" ? css.slice(css.indexOf("}") + 1) : css;
    const literals = body.match(/#[0-9a-f]{3,8}\b|rgba?\([^)]*\)|hsla?\([^)]*\)/gi) ?? [];
    assert.deepEqual(literals, [], `${file} uses colours outside the palette`);
  }
});
