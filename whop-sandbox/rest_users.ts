// GET /users/{user_id}/access/{resource_id} (the dashboard's admin check), GET /experiences/{id} and
// GET /experiences?company_id=… (the settings page's list to choose from). Access comes from an
// explicit fixture first; otherwise a live membership in that company or product makes the user a
// customer, as on Whop.
import { z } from "zod";
import type { Whop } from "@whop/sdk";
import type { RestApp, SandboxContext } from "./context.ts";
import { SandboxState } from "./store.ts";
import { jsonResponse, whopError } from "./http.ts";
import type { AccessLevel, MembershipStatus, WhopExperience } from "./whop_objects.ts";
import { notFound } from "./validation.ts";

// Whop's query parameters (@whop/sdk 0.0.42 ExperienceListParams; the `list experiences` page of
// https://docs.whop.com/api-reference/experiences/list-experiences): company_id is required.
const experienceListQuery = z.object({
  company_id: z.string().min(1),
  app_id: z.string().min(1).optional(),
  product_id: z.string().min(1).optional(),
  first: z.coerce.number().int().min(1).max(100).optional(),
  after: z.string().min(1).optional(),
});
const DEFAULT_EXPERIENCE_PAGE = 20;

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

  app.get("/api/v1/experiences", (c) => {
    const parsed = experienceListQuery.safeParse(c.req.query());
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return whopError(422, "invalid_params", `${issue.path.join(".")}: ${issue.message}`);
    }
    return jsonResponse(listExperiences(state, parsed.data));
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

/**
 * The company's experiences in Whop's order (`order` ascending, unordered ones last, then by creation),
 * paged with `first` and the opaque cursor `after`; `page_info.end_cursor` is absent on the last page.
 * Each item has ExperienceListResponse's fields (no `products`, which only the single read has).
 */
function listExperiences(
  state: SandboxState,
  q: z.infer<typeof experienceListQuery>,
): Whop.CursorPageResponse<Whop.ExperienceListResponse> {
  const position = (e: WhopExperience) => (e.order === null ? Number.POSITIVE_INFINITY : Number(e.order));
  let items = [...state.experiences.values()]
    .filter((e) => e.company.id === q.company_id)
    .filter((e) => q.app_id === undefined || e.app.id === q.app_id)
    .filter((e) => q.product_id === undefined || e.products.some((p) => p.id === q.product_id))
    .sort((a, b) => position(a) - position(b) || a.created_at.localeCompare(b.created_at));
  if (q.after !== undefined) {
    const index = items.findIndex((e) => e.id === decodeCursor(q.after!));
    items = index < 0 ? [] : items.slice(index + 1);
  }
  const first = q.first ?? DEFAULT_EXPERIENCE_PAGE;
  const more = items.length > first;
  const data = items.slice(0, first).map(({ products: _products, ...listed }) => listed);
  return {
    data,
    page_info: more && data.length > 0 ? { end_cursor: btoa(`experience:${data[data.length - 1].id}`) } : {},
  };
}

function decodeCursor(cursor: string): string {
  try {
    const text = atob(cursor);
    return text.startsWith("experience:") ? text.slice("experience:".length) : "";
  } catch {
    return "";
  }
}
