// Shown on every dashboard page while the company's nudges are not going out, saying why (the
// dispatcher's own rules, public.nudge_pause) and what happens to the nudges that fall due meanwhile.
import type { NudgePause } from "../routes/dashboard/context.ts";
import { fieldId } from "./settings/Field.tsx";

export function PausedBanner({ pause, settingsHref }: { pause: NudgePause; settingsHref: string }) {
  if (!pause) return null;
  return (
    <div class="notice warn paused-banner" role="status" data-pause={pause}>
      {pause === "paused_by_creator" && (
        <>
          <strong>Nudges are paused.</strong> Nudges that fall due while paused are not sent, not even later.
          {" "}
          <a href={`${settingsHref}#${fieldId("nudges_paused")}`}>Resume them in Settings</a>.
        </>
      )}
      {pause === "scheduler_off" && (
        <>
          <strong>Nudges are on hold.</strong>{" "}
          Churn Saver's team has paused sending for now. Nudges that fall due wait and go out when sending
          resumes; nothing is lost.
        </>
      )}
      {pause === "notifications_off" && (
        <>
          <strong>Nudges are switched off for this company.</strong>{" "}
          Churn Saver's team has not turned sending on for you yet. Cases are still tracked, but nudges that
          fall due are skipped.
        </>
      )}
    </div>
  );
}
