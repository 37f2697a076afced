// One bounded look at everything the ops endpoints judge: the database round trip first (so a dead or
// hanging database is reported within a second), then the parts an endpoint asks for, in one
// read-only transaction under a statement timeout.
import type { EnvReader } from "../../supabase/functions/_shared/config.ts";
import { checkDb, type DbCheck, describeDbError, type Sql } from "../../supabase/functions/_shared/db.ts";
import { boundedRead } from "./bounded_read.ts";
import { type BusinessStats, readBusinessStats } from "./business_stats.ts";
import { type DbStats, readDbStats } from "./db_stats.ts";
import { type FlagState, readFlags } from "./flags.ts";
import type { RequestTimings } from "./request_timing.ts";
import {
  type BreakerState,
  type QueueStats,
  readBreakers,
  readQueueStats,
  readSchedulerStats,
  type SchedulerStats,
} from "./scheduler_stats.ts";
import type { Thresholds } from "./thresholds.ts";
import { readWebhookStats, type WebhookStats } from "./webhook_stats.ts";

export interface OpsContext {
  sql: Sql;
  env: EnvReader;
  thresholds: Thresholds;
  pool: { applicationName: string; max: number };
  timings: RequestTimings;
}

export interface Snapshot {
  checked_at: string;
  database: DbCheck;
  /** Set when the database answered but a read did not (timeout, error): the parts are missing. */
  read_error?: string;
  flags?: FlagState[];
  db?: DbStats;
  webhooks?: WebhookStats;
  queue?: QueueStats;
  scheduler?: SchedulerStats;
  breakers?: BreakerState[];
  business?: BusinessStats;
}

export type Part = "flags" | "db" | "webhooks" | "queue" | "scheduler" | "breakers" | "business";

export async function readSnapshot(ops: OpsContext, parts: readonly Part[]): Promise<Snapshot> {
  const checked_at = new Date().toISOString();
  const database = await checkDb(ops.sql, Math.min(1000, ops.thresholds.queryTimeoutMs));
  if (database.status !== "ok" || parts.length === 0) return { checked_at, database };
  try {
    const read = await boundedRead(ops.sql, ops.thresholds.queryTimeoutMs, async (tx) => {
      const out: Omit<Snapshot, "checked_at" | "database"> = {};
      if (parts.includes("flags")) out.flags = await readFlags(tx, ops.env);
      if (parts.includes("db")) out.db = await readDbStats(tx, ops.pool);
      if (parts.includes("webhooks")) out.webhooks = await readWebhookStats(tx, ops.env, ops.thresholds);
      if (parts.includes("queue")) out.queue = await readQueueStats(tx);
      if (parts.includes("scheduler")) out.scheduler = await readSchedulerStats(tx);
      if (parts.includes("breakers")) out.breakers = await readBreakers(tx);
      if (parts.includes("business")) out.business = await readBusinessStats(tx);
      return out;
    });
    return { checked_at, database, ...read };
  } catch (error) {
    return { checked_at, database, read_error: describeDbError(error) };
  }
}
