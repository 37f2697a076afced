// How long scripts/dev.sh takes until every part answers: once on a new cluster (initdb, all
// migrations, demo data) and then N times reusing it; plus how long Ctrl-C takes to stop it all.
// Installs (npm, apt, Deno's cache) are not part of this: they are measured on a clean machine
// (BENCHMARKS.md says how).
import { devSandbox, DevScript } from "../support/dev_script.ts";
import { numberOption } from "./options.ts";

export async function devStartup(args: string[]) {
  const runs = numberOption(args, "runs", 5);
  const sandbox = await devSandbox();
  const rows: { run: string; upSeconds: number; stopSeconds: number }[] = [];
  try {
    for (let i = 0; i <= runs; i++) {
      const label = i === 0 ? "new cluster" : `reuse ${i}`;
      console.log(`dev-startup: ${label} ...`);
      const started = performance.now();
      const dev = new DevScript(sandbox.env);
      try {
        await dev.waitFor("local stack is up", 150_000);
      } catch (error) {
        await dev.forceStop();
        throw error;
      }
      const up = (performance.now() - started) / 1000;
      const stopping = performance.now();
      await dev.interrupt();
      rows.push({ run: label, upSeconds: up, stopSeconds: (performance.now() - stopping) / 1000 });
    }
  } finally {
    await sandbox.remove();
  }
  console.log("\nrun          up (s)   Ctrl-C to stopped (s)");
  for (const row of rows) {
    console.log(
      `${row.run.padEnd(12)} ${row.upSeconds.toFixed(2).padStart(6)}   ${
        row.stopSeconds.toFixed(2).padStart(6)
      }`,
    );
  }
  const reuse = rows.slice(1).map((row) => row.upSeconds).sort((a, b) => a - b);
  console.log(
    `\nnew cluster: ${rows[0].upSeconds.toFixed(2)} s; reuse: median ${
      reuse[Math.floor(reuse.length / 2)].toFixed(2)
    } s, ` +
      `max ${
        reuse[reuse.length - 1].toFixed(2)
      } s (targets: first run < 120 s including installs, later < 30 s)`,
  );
}
