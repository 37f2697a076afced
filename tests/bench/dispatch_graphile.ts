// graphile-worker as the dispatch benchmark's yardstick: a dependency of this benchmark only (an
// `npm:` specifier here, never in deno.json or the product). Its task makes the call our dispatcher
// makes for a push job, through the same Whop client (same endpoint, headers, Idempotency-Key).
import postgres from "postgres";
import { createWhopClient } from "../../supabase/functions/_shared/whop/client.ts";

// Imported by a computed specifier, so that `deno check` of the repository does not load its Node
// type definitions (@types/node, @types/pg), which change global types the rest of the code
// relies on; the little of its API used here is typed below.
const GRAPHILE_WORKER = "npm:graphile-worker@0.18.0";
interface Runner {
  events: { on(event: string, listener: () => void): void };
  stop(): Promise<void>;
}
interface GraphileWorker {
  Logger: new (factory: () => () => void) => unknown;
  run(options: Record<string, unknown>): Promise<Runner>;
  runMigrations(options: Record<string, unknown>): Promise<void>;
}
// Loaded when first used: the other benchmarks never fetch it.
let loaded: Promise<{ worker: GraphileWorker; silent: unknown }> | null = null;
const graphile = () =>
  loaded ??= import(GRAPHILE_WORKER).then((worker: GraphileWorker) => ({
    worker,
    silent: new worker.Logger(() => () => {}),
  }));

export const GRAPHILE_SCHEMA = "graphile_worker";

/** One push, as our dispatcher would send it: who, where, what, and the key Whop dedupes on. */
export interface PushPayload {
  key: string;
  experience_id: string;
  user_id: string;
  title: string;
  content: string;
  rest_path: string;
}

/**
 * graphile-worker's batching (https://worker.graphile.org/docs/performance#batching): the pool
 * fetches and locks jobs for its workers in one query (`localQueue`), and completions wait a
 * moment to be written together (`completeJobBatchDelay`, `failJobBatchDelay`).
 */
export function batchedPreset(localQueueSize: number, completeDelayMs: number) {
  return {
    worker: {
      localQueue: { size: localQueueSize },
      completeJobBatchDelay: completeDelayMs,
      failJobBatchDelay: completeDelayMs,
    },
  };
}

export async function installGraphile(connectionString: string) {
  const { worker, silent } = await graphile();
  await worker.runMigrations({ connectionString, logger: silent });
}

export async function dropGraphile(sql: postgres.Sql) {
  await sql.unsafe(`drop schema if exists ${GRAPHILE_SCHEMA} cascade`);
}

/** Queues one `push` job per payload, all due now (one statement). */
export async function addPushJobs(sql: postgres.Sql, payloads: PushPayload[]) {
  await sql`
    select ${sql(GRAPHILE_SCHEMA)}.add_job('push'::text, p::json)
    from jsonb_array_elements(${JSON.stringify(payloads)}::text::jsonb) as p`;
}

export interface GraphileRun {
  /** How many runners (our "dispatchers"), each with `concurrency` jobs at once. */
  runners: number;
  concurrency: number;
  jobs: number;
  whop: { apiBase: string; apiKey: string; appId: string; fetch: typeof fetch; timeoutMs: number };
  /** graphile-worker preset options (batching); none: its defaults. */
  preset?: ReturnType<typeof batchedPreset>;
  onProgress?: (done: number) => void;
  /** Started when the runners start, stopped when the last completion is written. */
  window: { start(): void; stop(): void };
}

/**
 * Runs the runners until `jobs` jobs have succeeded and their completions are written (the jobs
 * table is empty: graphile-worker deletes a completed job), inside `options.window`.
 */
export async function runGraphile(
  connectionString: string,
  sql: postgres.Sql,
  options: GraphileRun,
): Promise<{ failed: number }> {
  const whop = createWhopClient({
    baseUrl: options.whop.apiBase,
    apiKey: options.whop.apiKey,
    appId: options.whop.appId,
    timeoutMs: options.whop.timeoutMs,
    fetch: options.whop.fetch,
  });
  let completed = 0;
  let failed = 0;
  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => finish = resolve);
  const taskList = {
    push: async (payload: unknown) => {
      const push = payload as PushPayload;
      const outcome = await whop.sendPushNotification({
        experienceId: push.experience_id,
        userIds: [push.user_id],
        title: push.title,
        content: push.content,
        restPath: push.rest_path,
      }, push.key);
      // Thrown: graphile-worker records the failure and retries the job later, as it would in use.
      if (!outcome.ok) throw new Error(`${outcome.kind}: ${outcome.message}`);
    },
  };
  const { worker, silent } = await graphile();
  options.window.start();
  const runners = await Promise.all(Array.from({ length: options.runners }, () =>
    worker.run({
      connectionString,
      concurrency: options.concurrency,
      taskList,
      noHandleSignals: true,
      logger: silent,
      preset: options.preset,
    })));
  for (const runner of runners) {
    runner.events.on("job:success", () => {
      completed++;
      if (completed % 1000 === 0) options.onProgress?.(completed);
      if (completed === options.jobs) finish();
    });
    runner.events.on("job:error", () => void failed++);
  }
  await allDone;
  // A batched completion is written a little after its job:success.
  while ((await sql`select count(*)::int as n from ${sql(GRAPHILE_SCHEMA)}.jobs`)[0].n > 0) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  options.window.stop();
  await Promise.all(runners.map((runner) => runner.stop()));
  return { failed };
}
