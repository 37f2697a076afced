// Islands: scripts/build_islands.ts bundles every web/islands/*.tsx into a content-hashed file with a
// manifest; islandScript resolves names through it; the dashboard serves bundles for good (immutable).
import assert from "node:assert/strict";
import { buildIslands } from "../../scripts/build_islands.ts";
import { createApp } from "../../web/app.ts";
import { islandScript, readIslandManifest } from "../../web/lib/islands.ts";
import { dashboardEnv } from "../support/stack.ts";

const HASHED = /^template_preview\.[0-9a-f]{16}\.js$/;

async function withTempDir(fn: (dir: URL) => Promise<void>) {
  const path = await Deno.makeTempDir({ prefix: "islands_test_" });
  try {
    await fn(new URL(`file://${path}/`));
  } finally {
    await Deno.remove(path, { recursive: true });
  }
}

Deno.test("build_islands: one hashed browser bundle per island, a manifest, stale bundles removed", async () => {
  await withTempDir(async (outDir) => {
    await Deno.writeTextFile(new URL("template_preview.0000000000000000.js", outDir), "old build");
    const built = await buildIslands({ outDir });
    assert.deepEqual(built.map((island) => island.name), ["template_preview"]);
    const [island] = built;
    assert.match(island.file, HASHED);

    const files = [];
    for await (const entry of Deno.readDir(outDir)) files.push(entry.name);
    assert.deepEqual(
      files.sort(),
      ["manifest.json", island.file].sort(),
      "only the new bundle and the manifest",
    );
    assert.deepEqual(readIslandManifest(new URL("manifest.json", outDir)), {
      template_preview: `/static/islands/${island.file}`,
    });

    const code = await Deno.readTextFile(new URL(island.file, outDir));
    assert.equal(code.length, island.bytes);
    assert.ok(code.includes("data-island"), "the bundle mounts itself into [data-island] elements");
    assert.ok(!/\bDeno\./.test(code), "no Deno APIs reach the browser bundle");
    assert.ok(code.length / code.split("\n").length > 1000, "minified (long lines)");

    // The same sources give the same name (so caches stay valid); the hash follows the content.
    const again = await buildIslands({ outDir });
    assert.equal(again[0].file, island.file);
  });
});

Deno.test("build_islands: a broken island fails the build with the bundler's message", async () => {
  await withTempDir(async (dir) => {
    const islandsDir = new URL("islands/", dir);
    await Deno.mkdir(islandsDir);
    await Deno.writeTextFile(
      new URL("broken.tsx", islandsDir),
      'import { nothing } from "./missing.ts";\nconsole.log(nothing);\n',
    );
    await assert.rejects(
      () => buildIslands({ islandsDir, outDir: new URL("out/", dir) }),
      /deno bundle failed for \S*islands\/broken\.tsx:\n.*Module not found/,
    );
  });
});

Deno.test("islandScript: resolves built islands, null (and the page keeps its fallback) otherwise", async () => {
  const [island] = await buildIslands();
  assert.equal(islandScript("template_preview"), `/static/islands/${island.file}`);
  assert.equal(islandScript("no_such_island"), null);
  assert.equal(readIslandManifest(new URL("file:///nonexistent/manifest.json")), null);
});

Deno.test("the dashboard serves island bundles with immutable cache headers", async () => {
  const [island] = await buildIslands();
  const { app, close } = await createApp(dashboardEnv());
  try {
    const bundle = await app.fetch(new Request(`http://dashboard.test/static/islands/${island.file}`));
    assert.equal(bundle.status, 200);
    assert.equal(bundle.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.match(bundle.headers.get("content-type") ?? "", /javascript/);
    assert.equal((await bundle.text()).length, island.bytes);

    const manifest = await app.fetch(new Request("http://dashboard.test/static/islands/manifest.json"));
    assert.equal(manifest.status, 200);
    assert.equal(manifest.headers.get("cache-control"), "public, max-age=300", "the manifest is not hashed");
    await manifest.body?.cancel();

    const css = await app.fetch(new Request("http://dashboard.test/static/css/settings.css"));
    assert.equal(css.headers.get("cache-control"), "public, max-age=300");
    await css.body?.cancel();

    const missing = await app.fetch(
      new Request("http://dashboard.test/static/islands/nope.0123456789abcdef.js"),
    );
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await close();
  }
});
