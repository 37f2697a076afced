// Membership reads and the mutations a churn app makes: add free days (the incentive), cancel,
// uncancel, pause, resume. Each answers the updated Membership, as Whop does.
import { z } from "zod";
import type { Context } from "hono";
import type { RestApp, RestEnv, SandboxContext } from "./context.ts";
import { jsonResponse } from "./http.ts";
import type { WhopMembership } from "./whop_objects.ts";
import { notFound, parseRequestBody } from "./validation.ts";

const DAY_MS = 86_400_000;

const addFreeDaysSchema = z.object({ free_days: z.number().int().min(1).max(1095) });
const cancelSchema = z.object({ cancellation_mode: z.enum(["at_period_end", "immediate"]).nullish() });
const pauseSchema = z.object({ resumes_at: z.string().nullish(), void_payments: z.boolean().nullish() });

export function registerMembershipRoutes(app: RestApp, ctx: SandboxContext): void {
  const { state } = ctx;

  /** Runs `change` on the stored membership and answers it, or 404s. */
  const mutate = (
    c: Context<RestEnv>,
    change: (m: WhopMembership, now: string) => void,
  ): Response => {
    const id = c.req.param("id") ?? "";
    const membership = state.memberships.get(id);
    if (!membership) return notFound("Membership", id);
    const now = new Date().toISOString();
    change(membership, now);
    membership.updated_at = now;
    return jsonResponse(membership);
  };

  app.get("/api/v1/memberships/:id", (c) => {
    const id = c.req.param("id");
    const membership = state.memberships.get(id);
    return membership ? jsonResponse(membership) : notFound("Membership", id);
  });

  app.post("/api/v1/memberships/:id/add_free_days", (c) => {
    if (!state.memberships.has(c.req.param("id"))) return notFound("Membership", c.req.param("id"));
    const parsed = parseRequestBody(c, addFreeDaysSchema);
    if (!parsed.ok) return parsed.response;
    return mutate(c, (m) => {
      // Extends the current billing period (or sets one from today if there is none).
      const from = m.renewal_period_end ? Date.parse(m.renewal_period_end) : Date.now();
      m.renewal_period_end = new Date(from + parsed.value.free_days * DAY_MS).toISOString();
    });
  });

  app.post("/api/v1/memberships/:id/cancel", (c) => {
    if (!state.memberships.has(c.req.param("id"))) return notFound("Membership", c.req.param("id"));
    const parsed = parseRequestBody(c, cancelSchema);
    if (!parsed.ok) return parsed.response;
    const mode = parsed.value.cancellation_mode ?? "at_period_end";
    return mutate(c, (m, now) => {
      m.canceled_at = m.canceled_at ?? now;
      if (mode === "immediate") {
        m.status = "canceled";
        m.cancel_at_period_end = false;
        m.renewal_period_end = now;
      } else {
        m.cancel_at_period_end = true;
      }
    });
  });

  app.post("/api/v1/memberships/:id/uncancel", (c) =>
    mutate(c, (m) => {
      m.cancel_at_period_end = false;
      m.canceled_at = null;
      m.cancel_option = null;
      m.cancellation_reason = null;
      if (m.status === "canceling") m.status = "active";
    }));

  app.post("/api/v1/memberships/:id/pause", (c) => {
    if (!state.memberships.has(c.req.param("id"))) return notFound("Membership", c.req.param("id"));
    const parsed = parseRequestBody(c, pauseSchema);
    if (!parsed.ok) return parsed.response;
    return mutate(c, (m) => {
      m.payment_collection_paused = true;
    });
  });

  app.post("/api/v1/memberships/:id/resume", (c) =>
    mutate(c, (m) => {
      m.payment_collection_paused = false;
    }));
}
