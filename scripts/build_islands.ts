// deno task build:islands
// Bundles every web/islands/*.tsx for the browser (deno bundle, minified) into
// web/static/islands/<name>.<content-hash>.js and writes web/static/islands/manifest.json
// ({"<name>": "/static/islands/<file>"}), which the server reads to link each page's islands. The
// hash in the file name lets the server cache bundles forever (a changed island gets a new name).
// Bundles of earlier builds are removed once the new manifest is written.
const ROOT = new URL("..", import.meta.url);
const ISLANDS_DIR = new URL("web/islands/", ROOT);
const OUT_DIR = new URL("web/static/islands/", ROOT);
export const ISLANDS_URL_PREFIX = "/static/islands/";
const HASH_HEX_CHARS = 16;

export interface BuiltIsland {
  name: string;
  file: string;
  bytes: number;
}

export interface BuildOptions {
  islandsDir?: URL;
  outDir?: URL;
}

/** Builds every island; returns what was built. Throws when a bundle fails. */
export async function buildIslands(options: BuildOptions = {}): Promise<BuiltIsland[]> {
  const islandsDir = options.islandsDir ?? ISLANDS_DIR;
  const outDir = options.outDir ?? OUT_DIR;
  await Deno.mkdir(outDir, { recursive: true });

  const names = await islandNames(islandsDir);
  const built = await Promise.all(names.map((name) => bundleOne(name, islandsDir, outDir)));

  const manifest = Object.fromEntries(built.map((island) => [island.name, ISLANDS_URL_PREFIX + island.file]));
  const manifestPath = new URL("manifest.json", outDir);
  await Deno.writeTextFile(new URL("manifest.json.tmp", outDir), JSON.stringify(manifest, null, 2) + "\n");
  await Deno.rename(new URL("manifest.json.tmp", outDir), manifestPath);
  await removeStaleBundles(outDir, new Set(built.map((island) => island.file)));
  return built;
}

async function islandNames(dir: URL): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".tsx")) names.push(entry.name.slice(0, -".tsx".length));
  }
  return names.sort();
}

async function bundleOne(name: string, islandsDir: URL, outDir: URL): Promise<BuiltIsland> {
  const source = new URL(`${name}.tsx`, islandsDir);
  const tmp = new URL(`.${name}.${crypto.randomUUID()}.tmp.js`, outDir);
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--config",
      new URL("deno.json", ROOT).pathname,
      "--platform",
      "browser",
      "--minify",
      "--output",
      tmp.pathname,
      source.pathname,
    ],
    env: { DENO_NO_PACKAGE_JSON: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    await Deno.remove(tmp).catch(() => {});
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`deno bundle failed for ${source.pathname.replace(ROOT.pathname, "")}:\n${stderr}`);
  }
  const code = await Deno.readFile(tmp);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", code));
  const file = `${name}.${encodeHex(digest).slice(0, HASH_HEX_CHARS)}.js`;
  await Deno.rename(tmp, new URL(file, outDir));
  return { name, file, bytes: code.byteLength };
}

function encodeHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function removeStaleBundles(outDir: URL, keep: Set<string>) {
  for await (const entry of Deno.readDir(outDir)) {
    if (entry.isFile && entry.name.endsWith(".js") && !keep.has(entry.name)) {
      await Deno.remove(new URL(entry.name, outDir));
    }
  }
}

if (import.meta.main) {
  const started = performance.now();
  try {
    const built = await buildIslands();
    for (const island of built) {
      console.log(
        `  ${island.name} → ${ISLANDS_URL_PREFIX}${island.file} (${(island.bytes / 1024).toFixed(1)} KB)`,
      );
    }
    const ms = Math.round(performance.now() - started);
    console.log(`built ${built.length} island${built.length === 1 ? "" : "s"} in ${ms} ms`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(1);
  }
}
