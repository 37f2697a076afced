// Operator entries in public.audit_log: no company (invisible to every tenant), the actor, the
// action and what it changed. The actor is resolved as for every CLI (scripts/lib/actor.ts).
import type postgres from "postgres";
import { resolveActor } from "../lib/actor.ts";
import type { Sql } from "../lib/database.ts";

/** --actor, else $ROLLOUT_ACTOR, else the OS user (scripts/lib/actor.ts). */
export const rolloutActor = (flag: string | undefined, env = Deno.env) =>
  resolveActor(flag, "ROLLOUT_ACTOR", env);

export interface OperatorAction {
  actor: string;
  action: string;
  targetType: string;
  targetId?: string | null;
  before?: unknown;
  after?: unknown;
}

export async function recordOperatorAction(sql: Sql, entry: OperatorAction): Promise<number> {
  const json = (value: unknown) => value === undefined ? null : sql.json(value as postgres.JSONValue);
  const [{ id }] = await sql<{ id: number }[]>`
    insert into public.audit_log (company_id, actor, action, target_type, target_id, before, after)
    values (null, ${entry.actor}, ${entry.action}, ${entry.targetType}, ${entry.targetId ?? null},
            ${json(entry.before)}, ${json(entry.after)})
    returning id`;
  return Number(id);
}
