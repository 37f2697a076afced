// Operator entries in public.audit_log: no company (invisible to every tenant), the actor, the
// action and what it changed. The actor is --actor, else ROLLOUT_ACTOR, else the OS user.
import type postgres from "postgres";
import { CliError, type Sql } from "../lib/database.ts";

export function resolveActor(flag: string | undefined, env = Deno.env): string {
  const actor = (flag ?? env.get("ROLLOUT_ACTOR") ?? env.get("USER") ?? env.get("LOGNAME") ?? "").trim();
  if (!actor) {
    throw new CliError("who is running this? Give --actor <name> or set ROLLOUT_ACTOR.", 2);
  }
  if (actor.length > 200) throw new CliError("--actor is longer than 200 characters.", 2);
  return actor;
}

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
