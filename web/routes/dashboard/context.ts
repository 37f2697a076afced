// What every dashboard page gets: the verified viewer (company + user) and the shared services.
import type { AppEnv } from "../../../supabase/functions/_shared/config.ts";
import type { KeyRing } from "../../../supabase/functions/_shared/crypto/pii.ts";
import type { Sql } from "../../../supabase/functions/_shared/db.ts";
import type { WhopClient } from "../../../supabase/functions/_shared/whop/client.ts";
import type { ExportSlots, ExportTimeouts } from "../../lib/export_limits.ts";
import type { createWhopAuth, Viewer } from "../../lib/whop_auth.ts";

export interface DashboardDeps {
  sql: Sql;
  auth: ReturnType<typeof createWhopAuth>;
  whop: WhopClient;
  ring: KeyRing;
  appEnv: AppEnv;
  /** Origins besides the request's own host whose form posts are ours (web/lib/cross_site.ts). */
  allowedOrigins: readonly string[];
  exports: { slots: ExportSlots; timeouts: ExportTimeouts };
}

/** Why the company's nudges are not going out (public.nudge_pause), or null when they are. */
export type NudgePause = "scheduler_off" | "paused_by_creator" | "notifications_off" | null;

export type DashboardEnv = {
  Variables: {
    viewer: Viewer;
    companyTitle: string | null;
    /** The company's time zone (its settings), for every moment a page shows. */
    timeZone: string;
    nudgePause: NudgePause;
  };
};

/** The cookie /dev/login sets (APP_ENV=local only) in place of the header Whop's proxy adds. */
export const DEV_TOKEN_COOKIE = "churn_saver_dev_token";

export const COMPANY_ID_PATTERN = /^biz_[A-Za-z0-9_-]{1,64}$/;
