// deno task rollout <command>: the rollout plan as commands (status, dark-launch, ramp, full,
// rollback, resume, verify, reprocess, integrity). The commands live in scripts/rollout/.
import { main } from "./rollout/cli.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
