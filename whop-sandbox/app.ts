// Assembles the Whop sandbox: Whop's REST API under /api/v1 (through the fault/auth/rate-limit/
// idempotency pipeline), the JWKS, and the /_sandbox control API. A plain Hono app, so tests can use
// it in-process with `app.fetch(new Request(...))` or serve it on a real port (main.ts).
import { Hono } from "hono";
import type { JWK } from "jose";
import type { RestEnv, SandboxContext } from "./context.ts";
import { controlRoutes } from "./control.ts";
import { applyFixtures, type FixturesInput } from "./fixtures.ts";
import { log } from "../supabase/functions/_shared/log.ts";
import { delay, jsonResponse, whopError } from "./http.ts";
import { jwksDocument, loadSigningKey, mintUserToken, type SigningKey, type UserTokenInput } from "./jwks.ts";
import { registerMembershipRoutes } from "./rest_memberships.ts";
import { registerMessagingRoutes } from "./rest_messaging.ts";
import { registerPaymentRoutes } from "./rest_payments.ts";
import { faultResponse, restPipeline } from "./rest_pipeline.ts";
import { registerUserRoutes } from "./rest_users.ts";
import { DEFAULT_SETTINGS, SandboxState } from "./store.ts";
import { sendWebhook, type SendWebhookInput } from "./webhooks.ts";
import type { WebhookDelivery } from "./store.ts";

export interface SandboxOptions {
  /** When set, REST calls need `Authorization: Bearer <apiKey>` (else 401). */
  apiKey?: string;
  /** Default audience of minted user tokens. */
  appId?: string;
  /** Comma-separated list allowed; the first one signs outgoing webhooks. */
  webhookSecret?: string;
  /** Where `/_sandbox/webhooks` delivers when the request gives no target_url. */
  webhookTargetUrl?: string;
  /** Fixed ES256 private key (JWK); otherwise a fresh one is generated at start. */
  privateJwk?: JWK;
  /** Fixtures present at start and restored by reset. */
  fixtures?: FixturesInput;
  /** Author of messages the app sends (Whop's choice of sender is undocumented). */
  agentUser?: { id: string; name: string | null; username: string };
  /** Start (and reset) with Idempotency-Key ignored, as Whop may: every retried mutation acts again. */
  ignoreIdempotencyKey?: boolean;
}

export interface Sandbox {
  app: Hono;
  state: SandboxState;
  /** Resolves once the signing key exists; await it before measuring anything time-sensitive. */
  ready: Promise<void>;
  signingKey(): Promise<SigningKey>;
  mintUserToken(
    input: Omit<UserTokenInput, "audience"> & { audience?: UserTokenInput["audience"] },
  ): Promise<string>;
  sendWebhook(input: SendWebhookInput): Promise<WebhookDelivery>;
  /** Same as POST /_sandbox/reset. */
  reset(): void;
}

export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const state = new SandboxState({
    ...DEFAULT_SETTINGS,
    ignore_idempotency_key: options.ignoreIdempotencyKey ?? false,
  });
  const keyPromise = loadSigningKey(options.privateJwk);
  const ctx: SandboxContext = {
    state,
    apiKey: options.apiKey || null,
    appId: options.appId || null,
    webhookSecrets: (options.webhookSecret ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    webhookTargetUrl: options.webhookTargetUrl || null,
    agentUser: options.agentUser ??
      { id: "user_sandboxAgent01", name: "Churn Saver", username: "churn-saver" },
    signingKey: () => keyPromise,
  };

  const reset = () => {
    state.reset();
    if (options.fixtures) applyFixtures(state, options.fixtures);
  };
  reset();

  const rest = new Hono<RestEnv>();
  rest.use("/api/v1/*", restPipeline(ctx));
  registerMessagingRoutes(rest, ctx);
  registerMembershipRoutes(rest, ctx);
  registerPaymentRoutes(rest, ctx);
  registerUserRoutes(rest, ctx);

  const app = new Hono();
  app.get("/.well-known/jwks.json", async (c) => {
    // Faults apply here too, so tests can make the JWKS slow or unavailable.
    const fault = state.faults.take("GET", c.req.path);
    if (fault?.latency_ms) await delay(fault.latency_ms);
    if (fault?.status) return faultResponse(fault);
    return jsonResponse(jwksDocument(await keyPromise), 200, { "cache-control": "public, max-age=300" });
  });
  app.route("/_sandbox", controlRoutes(ctx, reset));
  app.route("/", rest);
  app.notFound((c) => whopError(404, "not_found", `No route for ${c.req.method} ${c.req.path}`));
  app.onError((err) => {
    log.error("whop-sandbox: unhandled error", { error: err });
    return whopError(500, "internal_server_error", "The sandbox failed to handle this request.");
  });

  return {
    app,
    state,
    ready: keyPromise.then(() => {}),
    signingKey: () => keyPromise,
    mintUserToken: async (input) => {
      const audience = input.audience ?? ctx.appId;
      if (!audience) throw new Error("mintUserToken: no audience and no appId configured");
      return await mintUserToken(await keyPromise, { ...input, audience });
    },
    sendWebhook: (input) => sendWebhook(ctx, input),
    reset,
  };
}
