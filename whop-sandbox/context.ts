// What every route module needs: the state plus the sandbox's configuration. Passed explicitly
// instead of living in module globals, so several sandboxes can run side by side in one test process.
import type { Hono } from "hono";
import type { SigningKey } from "./jwks.ts";
import type { SandboxState } from "./store.ts";
import type { WhopUser } from "./whop_objects.ts";

export interface SandboxContext {
  state: SandboxState;
  apiKey: string | null;
  appId: string | null;
  /** Secrets for signing webhooks; the first one signs. */
  webhookSecrets: string[];
  webhookTargetUrl: string | null;
  /** The user shown as the author of messages the app sends. */
  agentUser: Omit<WhopUser, "email">;
  signingKey: () => Promise<SigningKey>;
}

/** Hono variables set by the REST pipeline before a route handler runs. */
export type RestEnv = {
  Variables: {
    /** Parsed JSON body (null when empty, the raw string when not JSON). */
    body: unknown;
    bodyIsJson: boolean;
  };
};

export type RestApp = Hono<RestEnv>;
