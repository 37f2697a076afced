// deno task privacy export --user <id> | --email <addr> [--out file.json]
// deno task privacy erase --user <id> | --email <addr> [--yes]
// deno task privacy rotate-keys [--batch N] [--company <id>]
// Data-subject rights and key rotation (README "Privacy: retention, export, erasure, key rotation").
// Needs DATABASE_URL and ENCRYPTION_KEYS (both read from .local/stack.env when not set, for the
// local stack). Progress and the summary go to stderr when the export itself goes to stdout.
import { ConfigError } from "../supabase/functions/_shared/config.ts";
import { DecryptionError, type KeyRing, loadKeyRing } from "../supabase/functions/_shared/crypto/pii.ts";
import type { Sql } from "../supabase/functions/_shared/db.ts";
import { redactText } from "../supabase/functions/_shared/log.ts";
import { resolveActor } from "./lib/actor.ts";
import { CliError, connectDatabase } from "./lib/database.ts";
import { envOrLocalStack } from "./lib/stack_env.ts";
import { formatTable } from "./lib/table.ts";
import {
  COUNT_NAMES,
  countMemberData,
  type Counts,
  eraseMemberData,
  exportMemberData,
  type Subject,
} from "./privacy/member_data.ts";
import { rotateKeys, type RotationTally } from "./privacy/rotate_keys.ts";

const usage = `usage:
  deno task privacy export --user <whop user id> | --email <address> [--out file.json]
  deno task privacy erase --user <whop user id> | --email <address> [--yes]
  deno task privacy rotate-keys [--batch N] [--company <biz_id>]
options: --actor <name> names you in the audit log (default: $PRIVACY_ACTOR, else cli:<your OS user>)`;

class UsageError extends Error {}

interface Options {
  command: "export" | "erase" | "rotate-keys";
  subject: Subject | null;
  out: string | null;
  yes: boolean;
  batch: number;
  companyId: string | null;
  actor: string;
}

const USER_ID = /^[A-Za-z0-9_-]{1,200}$/;

export function parseArgs(args: string[]): Options {
  const [command, ...rest] = args;
  if (command !== "export" && command !== "erase" && command !== "rotate-keys") {
    throw new UsageError(command ? `unknown command "${command}".` : "a command is required.");
  }
  const options: Options = {
    command,
    subject: null,
    out: null,
    yes: false,
    batch: 500,
    companyId: null,
    actor: "",
  };
  let actorFlag: string | undefined;
  let userId: string | null = null;
  let email: string | null = null;
  const value = (i: number, name: string) => {
    const next = rest[i + 1];
    if (next === undefined || next.startsWith("--")) throw new UsageError(`${name} needs a value.`);
    return next;
  };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === "--user" && command !== "rotate-keys") userId = value(i++, arg);
    else if (arg === "--email" && command !== "rotate-keys") email = value(i++, arg);
    else if (arg === "--out" && command === "export") options.out = value(i++, arg);
    else if (arg === "--yes" && command === "erase") options.yes = true;
    else if (arg === "--batch" && command === "rotate-keys") options.batch = Number(value(i++, arg));
    else if (arg === "--company" && command === "rotate-keys") options.companyId = value(i++, arg);
    else if (arg === "--actor") actorFlag = value(i++, arg);
    else throw new UsageError(`unknown option "${arg}" for ${command}.`);
  }
  options.actor = resolveActor(actorFlag, "PRIVACY_ACTOR");
  if (command === "rotate-keys") {
    if (!Number.isInteger(options.batch) || options.batch < 1 || options.batch > 10_000) {
      throw new UsageError("--batch must be a whole number from 1 to 10000.");
    }
    return options;
  }
  if ((userId === null) === (email === null)) throw new UsageError("give exactly one of --user and --email.");
  if (userId !== null && !USER_ID.test(userId)) {
    throw new UsageError("--user must be a Whop user id (letters, digits, _ and -), such as user_abc123.");
  }
  if (email !== null && !/^[^\s@]+@[^\s@]+$/.test(email.trim())) {
    throw new UsageError("--email must be an email address.");
  }
  options.subject = userId !== null ? { userId } : { email: email! };
  return options;
}

function fail(message: string, code = 1): never {
  console.error(`privacy: ${message}`);
  Deno.exit(code);
}

async function connect(): Promise<{ sql: Sql; ring: KeyRing }> {
  const ring = await loadKeyRing(await envOrLocalStack("ENCRYPTION_KEYS") ?? undefined);
  return { sql: await connectDatabase("churn-saver-privacy"), ring };
}

const countsTable = (counts: Counts) =>
  formatTable(["rows", "count"], COUNT_NAMES.map((name) => [name, counts[name] ?? 0]));

const nothingStored = (counts: Counts) => Object.values(counts).every((n) => n === 0);

const describe = (subject: Subject) => "userId" in subject ? `user ${subject.userId}` : "the given email";

async function runExport(sql: Sql, ring: KeyRing, options: Options) {
  const subject = options.subject!;
  console.error(`Exporting everything stored about ${describe(subject)}...`);
  const doc = await exportMemberData(sql, ring, subject, options.actor);
  // A --user id is echoed back in user_ids whether or not anything mentions it: count rows instead.
  if (nothingStored(doc.counts)) {
    console.error(
      `\nsummary: nothing is stored about ${describe(subject)}; no export written. ` +
        ("userId" in subject
          ? "Check the id (the member's Whop user id, user_...), or try --email."
          : "Check the address, or try --user with the member's Whop user id."),
    );
    // Not a crash: the request was answered (and audited), but a script should not take it as data found.
    Deno.exitCode = 1;
    return;
  }
  const json = JSON.stringify(doc, null, 2) + "\n";
  if (options.out) {
    // The export holds PII in the clear: readable by its owner only.
    await Deno.writeTextFile(options.out, json, { mode: 0o600 });
    console.error(`Wrote ${options.out}.`);
  } else {
    await Deno.stdout.write(new TextEncoder().encode(json));
  }
  console.error(`\nsummary: ${doc.user_ids.length} user id(s) found\n${countsTable(doc.counts)}`);
}

async function runErase(sql: Sql, ring: KeyRing, options: Options) {
  const subject = options.subject!;
  const found = await countMemberData(sql, ring, subject);
  if (nothingStored(found.counts)) {
    console.log(`Nothing is stored about ${describe(subject)}; nothing to erase.`);
    return;
  }
  console.log(
    `This deletes, in one transaction, every row about ${describe(subject)} ` +
      `(user ids: ${found.user_ids.join(", ")}):\n${countsTable(found.counts)}`,
  );
  if (!options.yes) {
    if (!Deno.stdin.isTerminal()) {
      fail(
        "erase needs a confirmation: run it in a terminal, or pass --yes once you have checked the rows above.",
      );
    }
    const answer = prompt('Type "erase" to delete these rows:');
    if (answer?.trim() !== "erase") fail("not confirmed; nothing was deleted.");
  }
  console.log("Erasing...");
  const counts = await eraseMemberData(sql, ring, subject, options.actor);
  console.log(`\nsummary: erased (audited as privacy.erase by ${options.actor})\n${countsTable(counts)}`);
}

async function runRotation(sql: Sql, ring: KeyRing, options: Options) {
  console.log(
    `Re-encrypting stored PII and payloads with key "${ring.currentKeyId}"` +
      (options.companyId ? ` for company ${options.companyId}` : "") + ` in batches of ${options.batch}...`,
  );
  const result = await rotateKeys(sql, ring, {
    batchSize: options.batch,
    companyId: options.companyId,
    onProgress: (table, t) =>
      console.log(
        `${table}: ${
          t.reencrypted + t.changed + t.failed
        } of ${t.pending} done (${t.reencrypted} re-encrypted)`,
      ),
  });
  const rows = Object.entries(result).map(([table, t]: [string, RotationTally]) => [
    table,
    t.pending,
    t.reencrypted,
    t.changed,
    t.failed,
  ]);
  console.log(
    `\nsummary:\n${formatTable(["table", "to rotate", "re-encrypted", "changed meanwhile", "failed"], rows)}`,
  );
  const failed = result.members.failed + result.events.failed;
  if (failed > 0) {
    fail(
      `${failed} row(s) hold a field no key of ENCRYPTION_KEYS decrypts: put the key they were written with ` +
        `back into ENCRYPTION_KEYS (after the new first key) and run rotate-keys again.`,
    );
  }
  const changed = result.members.changed + result.events.changed;
  if (changed > 0) {
    console.log(`${changed} row(s) changed while rotating; run rotate-keys again to check them.`);
  } else {console.log(
      `Every row is on key "${ring.currentKeyId}". Older keys may now be removed from ENCRYPTION_KEYS.`,
    );}
}

if (import.meta.main) {
  let options: Options;
  try {
    options = parseArgs(Deno.args);
  } catch (error) {
    if (Deno.args[0] === "-h" || Deno.args[0] === "--help") {
      console.log(usage);
      Deno.exit(0);
    }
    fail(`${(error as Error).message}\n${usage}`, 2);
  }
  let connection: { sql: Sql; ring: KeyRing };
  try {
    connection = await connect();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    if (error instanceof CliError) fail(error.message, error.exitCode);
    throw error;
  }
  const { sql, ring } = connection;
  try {
    if (options.command === "export") await runExport(sql, ring, options);
    else if (options.command === "erase") await runErase(sql, ring, options);
    else await runRotation(sql, ring, options);
  } catch (error) {
    if (error instanceof DecryptionError) fail(`${error.message} Nothing was changed by the failing step.`);
    fail(`${redactText((error as Error).message)}. Is DATABASE_URL right and the database up?`);
  } finally {
    await sql.end();
  }
}
