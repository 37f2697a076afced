// GET /users/{user_id}/access/{resource_id} (the dashboard's admin check) and GET /experiences/{id}.
// Access comes from an explicit fixture first; otherwise a live membership in that company or product
// makes the user a customer, as on Whop.
import type { Whop } from "@whop/sdk";
import type { RestApp, SandboxContext } from "./context.ts";
import { SandboxState } from "./store.ts";
import { jsonResponse } from "./http.ts";
import type { AccessLevel, MembershipStatus } from "./whop_objects.ts";
import { notFound } from "./validation.ts";

const LIVE_STATUSES = new Set<MembershipStatus>(["active", "trialing", "past_due", "canceling"]);

export function registerUserRoutes(app: RestApp, ctx: SandboxContext): void {
  const { state } = ctx;

  app.get("/api/v1/users/:userId/access/:resourceId", (c) => {
    const userId = c.req.param("userId");
    const resourceId = c.req.param("resourceId");
    const level: AccessLevel = state.access.get(SandboxState.accessKey(userId, resourceId)) ??
      (hasLiveMembership(state, userId, resourceId) ? "customer" : "no_access");
    const answer: Whop.UserCheckAccessResponse = { access_level: level, has_access: level !== "no_access" };
    return jsonResponse(answer);
  });

  app.get("/api/v1/experiences/:id", (c) => {
    const experience = state.experiences.get(c.req.param("id"));
    return experience ? jsonResponse(experience) : notFound("Experience", c.req.param("id"));
  });
}

function hasLiveMembership(state: SandboxState, userId: string, resourceId: string): boolean {
  for (const m of state.memberships.values()) {
    if (m.user?.id !== userId || !LIVE_STATUSES.has(m.status)) continue;
    if (m.company.id === resourceId || m.product.id === resourceId) return true;
  }
  return false;
}
