// The actions a creator can take on a case, each a link to its confirmation step; only those that
// apply now are offered.
import { actionRefusal, type CaseRow } from "../../queries/case_detail.ts";

export function CaseActions(
  { row, caseHref, cancelRequested }: { row: CaseRow; caseHref: string; cancelRequested: boolean },
) {
  const canCancel = actionRefusal("cancel-membership", row, cancelRequested) === null;
  return (
    <section class="card" aria-labelledby="case-actions-heading">
      <h2 id="case-actions-heading">Actions</h2>
      {row.status === "open"
        ? (
          <div class="page-actions cases-actions">
            <a class="button primary" href={`${caseHref}/actions/nudge`}>Nudge now</a>
            <a class="button danger" href={`${caseHref}/actions/dismiss`}>Dismiss case</a>
            {canCancel && (
              <a class="button danger" href={`${caseHref}/actions/cancel-membership`}>
                Cancel membership at period end
              </a>
            )}
          </div>
        )
        : <p class="muted">This case is closed, so there is nothing left to do on it.</p>}
      {cancelRequested && (
        <p class="cases-note">Whop was asked to cancel this membership at the end of its billing period.</p>
      )}
    </section>
  );
}
