// Configuration for the operator CLIs: the environment wins; otherwise the local stack's
// `.local/stack.env` (written by scripts/dev.sh), so the CLIs work against the local stack as is.

/** The value of `name` from the environment or the local stack, or null when neither has it. A variable
 * set to "" in the environment counts as set (to nothing): the local stack's value does not replace it. */
export async function envOrLocalStack(name: string): Promise<string | null> {
  const fromEnv = Deno.env.get(name);
  if (fromEnv !== undefined) return fromEnv;
  try {
    const file = await Deno.readTextFile(new URL("../../.local/stack.env", import.meta.url));
    const line = file.split("\n").find((l) => l.startsWith(`${name}=`));
    if (line) return line.slice(name.length + 1);
  } catch {
    // no local stack
  }
  return null;
}
