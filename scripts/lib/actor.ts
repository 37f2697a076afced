// Who runs an operator command, for the audit log, by one rule for every CLI (rollout, privacy):
// --actor, else the tool's variable ($ROLLOUT_ACTOR, $PRIVACY_ACTOR), else the OS user as
// "cli:<name>" ($USER, $LOGNAME, else the account the process runs as: containers and CI often set
// neither variable). Never a made-up default: an entry always names a person or an account.
import { userInfo } from "node:os";
import { CliError } from "./database.ts";

export const ACTOR_MAX_LENGTH = 200;

export function resolveActor(flag: string | undefined, variable: string, env = Deno.env): string {
  const given = flag ?? env.get(variable);
  if (given !== undefined) {
    const actor = given.trim();
    if (!actor) throw new CliError(`the actor is empty: give --actor <your name> (or set ${variable}).`, 2);
    if (actor.length > ACTOR_MAX_LENGTH) {
      throw new CliError(`--actor is longer than ${ACTOR_MAX_LENGTH} characters.`, 2);
    }
    return actor;
  }
  return `cli:${osUser(env)}`;
}

function osUser(env: typeof Deno.env): string {
  const fromEnv = (env.get("USER") ?? env.get("LOGNAME") ?? "").trim();
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    return `uid-${Deno.uid() ?? "unknown"}`;
  }
}
