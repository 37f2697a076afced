// The rollout CLI's pure parts: which phase a set of flags is, what each phase command changes,
// the validation of percentages, company ids, durations and options, and where its numbers come from.
import assert from "node:assert/strict";
import { parseArgs, parseDuration } from "../../scripts/rollout/args.ts";
import { THRESHOLDS } from "../../scripts/rollout/thresholds.ts";
import { formatDuration } from "../../scripts/rollout/verify.ts";
import { readThresholds } from "../../web/ops/thresholds.ts";
import {
  applyChange,
  environmentOverrides,
  type FlagName,
  type Flags,
  type FlagState,
} from "../../scripts/rollout/flags.ts";
import {
  currentPhase,
  darkLaunch,
  fullRollout,
  parseCompanies,
  parsePercent,
  ramp,
} from "../../scripts/rollout/phases.ts";
import { CliError } from "../../scripts/lib/database.ts";

const off: FlagState = { enabled: false, rollout_percent: 100, company_allowlist: [] };
function flags(states: Partial<Record<FlagName, Partial<FlagState>>>): Flags {
  const names: FlagName[] = [
    "WEBHOOK_PROCESSING_ENABLED",
    "SCHEDULER_ENABLED",
    "NOTIFICATIONS_ENABLED",
    "ROLLBACK_MODE",
  ];
  return Object.fromEntries(names.map((name) => [name, {
    name,
    ...off,
    ...states[name],
    updated_by: "test",
    updated_at: new Date(0),
  }])) as Flags;
}
const on = (rollout_percent = 100, company_allowlist: string[] = []) => ({
  enabled: true,
  rollout_percent,
  company_allowlist,
});
/** The flags after applying a phase command's changes. */
function apply(current: Flags, changes: ReturnType<typeof darkLaunch>): Flags {
  const next = structuredClone(current);
  for (const [name, change] of Object.entries(changes)) {
    Object.assign(next[name as FlagName], applyChange(next[name as FlagName], change!));
  }
  return next;
}

Deno.test("the phase follows from the flags", () => {
  assert.equal(currentPhase(flags({})), "off");
  assert.equal(currentPhase(flags({ WEBHOOK_PROCESSING_ENABLED: on() })), "dark");
  assert.equal(
    currentPhase(
      flags({ WEBHOOK_PROCESSING_ENABLED: on(), SCHEDULER_ENABLED: on(20), NOTIFICATIONS_ENABLED: on(10) }),
    ),
    "limited",
  );
  assert.equal(
    currentPhase(flags({ WEBHOOK_PROCESSING_ENABLED: on(), SCHEDULER_ENABLED: on(20) })),
    "limited",
    "the scheduler ramped first, notifications still off",
  );
  assert.equal(
    currentPhase(
      flags({ WEBHOOK_PROCESSING_ENABLED: on(), SCHEDULER_ENABLED: on(), NOTIFICATIONS_ENABLED: on() }),
    ),
    "full",
  );
  assert.equal(
    currentPhase(flags({ WEBHOOK_PROCESSING_ENABLED: on(), SCHEDULER_ENABLED: on(), ROLLBACK_MODE: on() })),
    "rollback",
  );
  assert.equal(currentPhase(flags({ WEBHOOK_PROCESSING_ENABLED: on(50) })), "custom", "processing for half");
  assert.equal(
    currentPhase(flags({ WEBHOOK_PROCESSING_ENABLED: on(), NOTIFICATIONS_ENABLED: on() })),
    "custom",
  );
});

Deno.test("phase commands: dark launch, ramps and full", () => {
  const dark = apply(flags({ SCHEDULER_ENABLED: on(), NOTIFICATIONS_ENABLED: on() }), darkLaunch());
  assert.equal(currentPhase(dark), "dark");
  const scheduled = apply(dark, ramp("scheduler", 20, undefined)(dark));
  assert.deepEqual(scheduled.SCHEDULER_ENABLED.rollout_percent, 20);
  const limited = apply(scheduled, ramp("notifications", 10, ["biz_friend"])(scheduled));
  assert.equal(currentPhase(limited), "limited");
  assert.deepEqual(limited.NOTIFICATIONS_ENABLED.company_allowlist, ["biz_friend"]);
  assert.deepEqual(
    limited.SCHEDULER_ENABLED.company_allowlist,
    ["biz_friend"],
    "listed companies get scheduled",
  );
  const again = apply(limited, ramp("notifications", 10, undefined)(limited));
  assert.deepEqual(
    again.NOTIFICATIONS_ENABLED.company_allowlist,
    ["biz_friend"],
    "no --companies keeps the list",
  );
  assert.equal(currentPhase(apply(limited, fullRollout())), "full");
  assert.deepEqual(apply(limited, fullRollout()).NOTIFICATIONS_ENABLED.company_allowlist, []);
});

Deno.test("percentages, company ids and options are validated", () => {
  assert.equal(parsePercent("20", ""), 20);
  assert.equal(parsePercent("10%", ""), 10);
  for (const bad of ["101", "-1", "2.5", "ten", ""]) {
    assert.throws(() => parsePercent(bad, ""), (error: CliError) => error.exitCode === 2, bad);
  }
  assert.deepEqual(parseCompanies("biz_a, biz_b,biz_a"), ["biz_a", "biz_b"]);
  assert.deepEqual(parseCompanies(""), []);
  assert.throws(() => parseCompanies("biz_a,acme"), /not a Whop company id: "acme"/);
  assert.deepEqual(
    parseArgs(["20", "--companies=biz_a", "--skip"], { companies: "string", skip: "boolean" }, ""),
    {
      positional: ["20"],
      options: { companies: "biz_a", skip: true },
    },
  );
  assert.throws(() => parseArgs(["--companies"], { companies: "string" }, ""), /--companies needs a value/);
  assert.throws(() => parseArgs(["--nope"], {}, ""), /unknown option "--nope"/);
});

Deno.test("flag variables in the shell are shown with what they do", () => {
  const env = new Map([["SCHEDULER_ENABLED", "false"], ["NOTIFICATIONS_ENABLED", "true"], [
    "ROLLBACK_MODE",
    "true",
  ]]);
  assert.deepEqual(environmentOverrides(env), [
    "SCHEDULER_ENABLED=false (forces processing off)",
    "NOTIFICATIONS_ENABLED=true (no effect)",
    "ROLLBACK_MODE=true (forces processing off)",
  ]);
  assert.deepEqual(environmentOverrides(new Map()), []);
});

Deno.test("verify judges a figure the ops endpoints judge by their number, not one of its own", () => {
  const ops = readThresholds(new Map());
  assert.equal(THRESHOLDS.minDeliverySuccess, 0.95);
  assert.equal(
    THRESHOLDS.minDeliverySuccess,
    1 - ops.reminderFailureRate,
    "delivery success = 1 - alert rate",
  );
  assert.equal(THRESHOLDS.maxOverdueMinutes * 60, ops.queueOldestDueSeconds, "overdue = queue_oldest_due");
});

Deno.test("observation times and durations", () => {
  assert.deepEqual(
    Object.fromEntries(
      Object.entries(THRESHOLDS.observationSeconds).map(([phase, s]) => [phase, formatDuration(s)]),
    ),
    { dark: "24 h", limited: "3 d", full: "24 h", rollback: "2 min" },
  );
  assert.equal(formatDuration(12.7), "12 s");
  assert.equal(parseDuration("0", "--x"), 0);
  assert.equal(parseDuration("90", "--x"), 90);
  assert.equal(parseDuration("15m", "--x"), 900);
  assert.equal(parseDuration("24h", "--x"), 86_400);
  assert.equal(parseDuration("3d", "--x"), 259_200);
  for (const bad of ["", "-1", "1.5h", "soon", "3 weeks"]) {
    assert.throws(
      () => parseDuration(bad, "--min-observation"),
      (error: CliError) =>
        error.exitCode === 2 && /--min-observation .* is not a duration/.test(error.message),
      bad,
    );
  }
});
