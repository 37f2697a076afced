// One rule for who runs an operator command (scripts/lib/actor.ts), for rollout and privacy alike.
import assert from "node:assert/strict";
import { userInfo } from "node:os";
import { resolveActor } from "../../scripts/lib/actor.ts";

const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] }) as typeof Deno.env;

Deno.test("resolveActor: --actor, else the tool's variable, else cli:<OS user>, never a refusal", () => {
  assert.equal(resolveActor("alice", "ROLLOUT_ACTOR", env({ ROLLOUT_ACTOR: "bob", USER: "carol" })), "alice");
  assert.equal(resolveActor(undefined, "ROLLOUT_ACTOR", env({ ROLLOUT_ACTOR: "bob", USER: "carol" })), "bob");
  assert.equal(
    resolveActor(undefined, "PRIVACY_ACTOR", env({ ROLLOUT_ACTOR: "bob", USER: "carol" })),
    "cli:carol",
  );
  assert.equal(resolveActor(undefined, "PRIVACY_ACTOR", env({ LOGNAME: "dave" })), "cli:dave");
  // Neither $USER nor $LOGNAME (a container, CI): the account the process runs as.
  assert.equal(resolveActor(undefined, "ROLLOUT_ACTOR", env({})), `cli:${userInfo().username}`);
});

Deno.test("resolveActor: an empty or overlong actor is refused naming what to do", () => {
  assert.throws(() => resolveActor("  ", "ROLLOUT_ACTOR", env({})), /actor is empty: give --actor/);
  assert.throws(
    () => resolveActor(undefined, "PRIVACY_ACTOR", env({ PRIVACY_ACTOR: "" })),
    /set PRIVACY_ACTOR/,
  );
  assert.throws(() => resolveActor("x".repeat(201), "ROLLOUT_ACTOR", env({})), /longer than 200/);
});
