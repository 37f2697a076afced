// Benchmarks: `deno task bench <name> [options]`. Each prints its figures; BENCHMARKS.md records them.
import { dashboardBench } from "./dashboard.ts";
import { devStartup } from "./dev_startup.ts";
import { dispatchBench } from "./dispatch.ts";
import { integrityBench } from "./integrity.ts";
import { retentionBench } from "./retention.ts";
import { sentryBench } from "./sentry.ts";
import { opsBench } from "./ops.ts";
import { ingestBench } from "./ingest.ts";

const benchmarks: Record<string, { run: (args: string[]) => Promise<void>; help: string }> = {
  "dev-startup": { run: devStartup, help: "scripts/dev.sh time to ready, new and reused cluster [--runs N]" },
  dashboard: {
    run: dashboardBench,
    help: "overview, cases page, CSV with 100k cases [--cases N] [--requests N]",
  },
  integrity: {
    run: integrityBench,
    help: "integrity checks and verify's window metrics over 100k cases [--cases N] [--runs N]",
  },
  retention: {
    run: retentionBench,
    help: "purge runs and ingest latency while purging N memberships [--memberships N]",
  },
  sentry: { run: sentryBench, help: "what error reporting costs a normal request [--requests N]" },
  dispatch: {
    run: dispatchBench,
    help: "our dispatcher vs graphile-worker, same jobs, sandbox, Postgres [--jobs N] [--quick]",
  },
  ops: {
    run: opsBench,
    help: "health, metrics and alerts endpoints with 100k cases [--cases N] [--requests N]",
  },
  ingest: {
    run: ingestBench,
    help: "webhook ingest: ceiling, SQL alone, end to end, profile [--quick] [--stored] [--seconds N]",
  },
};

const [name, ...args] = Deno.args;
const bench = benchmarks[name];
if (!bench) {
  console.error(`usage: deno task bench <name> [options]\n`);
  for (const [key, { help }] of Object.entries(benchmarks)) console.error(`  ${key.padEnd(14)} ${help}`);
  Deno.exit(name ? 2 : 0);
}
try {
  await bench.run(args);
} catch (error) {
  console.error(`bench ${name}: ${(error as Error).message}`);
  Deno.exit(1);
}
