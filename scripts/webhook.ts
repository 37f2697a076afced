// deno task webhook <type> [options]: one realistic Whop webhook, built by the sandbox's payload
// builders (Whop's real shapes, WHOP.md 1.1) and sent by the Whop sandbox itself (POST
// /_sandbox/webhooks), which signs it like Whop, delivers it to the local stack's whop-webhook
// function and registers the membership in its REST API, so the nudges and links that follow work.
import {
  MEMBERSHIP_EVENT_TYPES,
  membershipEvent,
  PAYMENT_EVENT_TYPES,
  paymentEvent,
} from "../whop-sandbox/payloads.ts";
import type { CancelOption, Currency } from "../whop-sandbox/whop_objects.ts";
import { CliError } from "./lib/database.ts";
import { envOrLocalStack } from "./lib/stack_env.ts";

const TYPES: readonly string[] = [...PAYMENT_EVENT_TYPES, ...MEMBERSHIP_EVENT_TYPES];
const CANCEL_OPTIONS = [
  "too_expensive",
  "switching",
  "missing_features",
  "technical_issues",
  "bad_experience",
  "other",
  "testing",
];

const OPTIONS = {
  company: "the company (default biz_demo, the demo company)",
  membership: "the membership id (default a new mem_…)",
  user: "the member's user id (default a new user_…)",
  name: 'the member\'s name (default "Sam Sample")',
  email: "the member's email (default sam.<random>@example.com)",
  username: "the member's username",
  product: 'the product title (default "Pro Trading Signals")',
  amount: "the payment total in currency units, e.g. 29.99 (default 29.99)",
  currency: "a lowercase ISO code (default usd)",
  failure: 'a failed payment\'s message (default "Your card has insufficient funds.")',
  reason: `a cancellation's option: ${CANCEL_OPTIONS.join(", ")}`,
  words: "a cancellation's reason in the member's words",
  "keep-renewal": "for membership.cancel_at_period_end_changed: the member withdrew the cancellation",
  print: "print the payload instead of sending it",
} as const;
type Option = keyof typeof OPTIONS;
const FLAGS = new Set<Option>(["keep-renewal", "print"]);

export const usage = `usage: deno task webhook <type> [--option value ...]

Sends one signed Whop webhook to the local stack (scripts/dev.sh), through the Whop sandbox.

types:
  ${TYPES.join("\n  ")}

options:
${Object.entries(OPTIONS).map(([name, what]) => `  --${name.padEnd(13)} ${what}`).join("\n")}

examples:
  deno task webhook payment.failed --name "Sarah Connor" --email sarah@example.com --amount 49
  deno task webhook membership.cancel_at_period_end_changed --reason too_expensive --words "Too pricey for me"`;

export function parseWebhookArgs(args: string[]) {
  const [type, ...rest] = args;
  if (!type || type.startsWith("-")) throw new CliError(`give an event type first.\n\n${usage}`, 2);
  if (!TYPES.includes(type)) {
    throw new CliError(`unknown event type "${type}". Choose one of: ${TYPES.join(", ")}.`, 2);
  }
  const values: Partial<Record<Option, string>> = {};
  for (let i = 0; i < rest.length; i++) {
    const name = rest[i].replace(/^--/, "") as Option;
    if (!rest[i].startsWith("--") || !(name in OPTIONS)) {
      throw new CliError(
        `unknown option "${rest[i]}". Options: ${Object.keys(OPTIONS).map((o) => `--${o}`).join(", ")}.`,
        2,
      );
    }
    if (FLAGS.has(name)) values[name] = "yes";
    else if (i + 1 >= rest.length) throw new CliError(`--${name} needs a value: ${OPTIONS[name]}.`, 2);
    else values[name] = rest[++i];
  }
  const amount = values.amount === undefined ? 29.99 : Number(values.amount);
  if (!Number.isFinite(amount) || amount <= 0) {
    throw new CliError(
      `--amount must be a positive number of currency units, like 29.99 (got "${values.amount}").`,
      2,
    );
  }
  if (values.currency !== undefined && !/^[a-z]{3}$/.test(values.currency)) {
    throw new CliError(
      `--currency must be a lowercase three-letter code, like usd (got "${values.currency}").`,
      2,
    );
  }
  if (values.reason !== undefined && !CANCEL_OPTIONS.includes(values.reason)) {
    throw new CliError(`--reason must be one of ${CANCEL_OPTIONS.join(", ")} (got "${values.reason}").`, 2);
  }
  return { type, values, amount };
}

export function buildWebhook({ type, values, amount }: ReturnType<typeof parseWebhookArgs>) {
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
  const party = {
    companyId: values.company ?? "biz_demo",
    membershipId: values.membership ?? `mem_${suffix}`,
    userId: values.user ?? `user_${suffix}`,
    name: values.name ?? "Sam Sample",
    email: values.email ?? `sam.${suffix}@example.com`,
    username: values.username ?? `sam${suffix}`,
    productTitle: values.product ?? "Pro Trading Signals",
  };
  if ((PAYMENT_EVENT_TYPES as readonly string[]).includes(type)) {
    return paymentEvent(type, {
      ...party,
      amount,
      currency: (values.currency ?? "usd") as Currency,
      ...(type === "payment.failed" || type === "payment.requires_action"
        ? { failureMessage: values.failure ?? "Your card has insufficient funds." }
        : {}),
    });
  }
  return membershipEvent(type, {
    ...party,
    ...(type === "membership.cancel_at_period_end_changed"
      ? {
        cancelAtPeriodEnd: values["keep-renewal"] === undefined,
        cancelOption: (values.reason ?? null) as CancelOption | null,
        cancellationReason: values.words ?? null,
      }
      : {}),
  });
}

if (import.meta.main) {
  try {
    if (Deno.args[0] === "-h" || Deno.args[0] === "--help" || Deno.args[0] === "help") {
      console.log(usage);
      Deno.exit(0);
    }
    const parsed = parseWebhookArgs(Deno.args);
    const payload = buildWebhook(parsed);
    if (parsed.values.print) {
      console.log(JSON.stringify(payload, null, 2));
      Deno.exit(0);
    }
    const sandbox = await envOrLocalStack("WHOP_SANDBOX_URL");
    if (!sandbox) {
      throw new CliError(
        "no local stack found (.local/stack.env) and WHOP_SANDBOX_URL is not set: start it with scripts/dev.sh.",
      );
    }
    const response = await fetch(`${sandbox}/_sandbox/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ payload }),
    }).catch((error) => {
      throw new CliError(
        `the Whop sandbox at ${sandbox} did not answer (${error.message}): is scripts/dev.sh running?`,
      );
    });
    const delivery = await response.json();
    if (!response.ok) throw new CliError(`the sandbox refused the webhook: ${JSON.stringify(delivery)}`);
    const data = payload.data as { id: string; user?: { id: string } | null };
    const what = `${payload.type} ${payload.id} (membership ${
      "membership" in data && data.membership ? (data.membership as { id: string }).id : data.id
    }, user ${data.user?.id})`;
    if (delivery.status === 200) {
      console.log(`sent ${what} to ${delivery.target_url}: 200 ${JSON.stringify(delivery.body)}`);
      console.log(
        `see it in the dashboard: ${
          (await envOrLocalStack("DASHBOARD_URL")) ?? "http://127.0.0.1:8000"
        }/dev/login`,
      );
    } else {
      throw new CliError(
        `sent ${what} to ${delivery.target_url}, which answered ${delivery.status ?? "nothing"}: ${
          JSON.stringify(delivery.body ?? delivery.error)
        }`,
      );
    }
  } catch (error) {
    console.error(`webhook: ${error instanceof CliError ? error.message : (error as Error).message}`);
    Deno.exit(error instanceof CliError ? error.exitCode : 1);
  }
}
