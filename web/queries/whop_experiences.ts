// The company's experiences of our app on Whop, for the settings page to choose the one pushes come
// from by name (Whop delivers an app's experience notifications only through its own experiences).
// Asked of Whop with the app's API key on each visit of the page (GET /experiences, client.ts); when
// Whop does not answer, the page says so and the creator can still paste the experience's link.
import { log } from "../../supabase/functions/_shared/log.ts";
import type { WhopClient } from "../../supabase/functions/_shared/whop/client.ts";

export interface ExperienceChoice {
  id: string;
  name: string;
}

export type ExperienceChoices =
  | { ok: true; experiences: ExperienceChoice[]; truncated: boolean }
  | { ok: false };

/** Pages read at most: a company with more experiences than this pastes the link of the one it wants. */
const MAX_PAGES = 4;

export async function loadExperienceChoices(
  whop: Pick<WhopClient, "listExperiences">,
  companyId: string,
): Promise<ExperienceChoices> {
  const experiences: ExperienceChoice[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const outcome = await whop.listExperiences({ companyId, ownAppOnly: true, after });
    if (!outcome.ok) {
      log.warn("settings: Whop's list of experiences is unavailable", {
        company_id: companyId,
        status: outcome.status,
        kind: outcome.kind,
      });
      return { ok: false };
    }
    for (const item of outcome.experiences) {
      experiences.push({ id: item.id, name: item.name });
    }
    if (outcome.nextCursor === null) return { ok: true, experiences, truncated: false };
    after = outcome.nextCursor;
  }
  return { ok: true, experiences, truncated: true };
}
