// The words people read for the codes the database stores.

export const STATUS_WORDS: Record<string, string> = {
  open: "Open",
  recovered: "Recovered",
  lost: "Lost",
  expired: "Expired",
  dismissed: "Dismissed",
};

/** What ended a lost case, when it was a refund or a dispute ("Lost — refunded"). */
export const CLOSED_BY_WORDS: Record<string, string> = {
  refund: "refunded",
  dispute: "disputed",
};

/** A case's status in words, with what ended it when that was a refund or a dispute. */
export function statusWords(status: string, closedBy: string | null | undefined): string {
  const base = words(STATUS_WORDS, status);
  return closedBy ? `${base} — ${CLOSED_BY_WORDS[closedBy] ?? closedBy}` : base;
}

/** Whop's billing reasons (WHOP.md 4). */
export const BILLING_REASON_WORDS: Record<string, string> = {
  subscription_create: "First checkout",
  subscription_cycle: "Renewal",
  subscription_update: "Plan change",
  manual: "Manual charge",
  one_time: "One-time payment",
};

/** Whop's membership statuses. */
export const MEMBERSHIP_STATUS_WORDS: Record<string, string> = {
  trialing: "Trialing",
  active: "Active",
  past_due: "Past due",
  completed: "Completed",
  canceled: "Canceled",
  canceling: "Canceling",
  expired: "Expired",
  unresolved: "Unresolved",
  drafted: "Draft",
};

/** The reasons a member can pick when cancelling on Whop. */
export const CANCEL_OPTION_WORDS: Record<string, string> = {
  too_expensive: "Too expensive",
  switching: "Switching to something else",
  missing_features: "Missing features",
  technical_issues: "Technical issues",
  bad_experience: "Bad experience",
  other: "Other",
  testing: "Testing",
};

export const REASON_WORDS: Record<string, string> = {
  payment_failed: "Payment failed",
  action_required: "Payment needs action",
  cancel_scheduled: "Cancellation scheduled",
  membership_deactivated: "Membership ended",
};

export const ATTRIBUTION_WORDS: Record<string, string> = {
  click_through: "Clicked the recovery link",
  nudged: "After a nudge",
  organic: "On their own",
};

export const SORT_WORDS: Record<string, string> = {
  opened_desc: "Newest first",
  opened_asc: "Oldest first",
  amount_desc: "Largest amount first",
};

export const CHANNEL_WORDS: Record<string, string> = {
  push: "Push notification",
  dm: "Direct message",
  incentive: "Free days",
};

export const EVENT_WORDS: Record<string, string> = {
  "payment.failed": "Payment failed",
  "payment.succeeded": "Payment succeeded",
  "payment.pending": "Payment pending",
  "payment.requires_action": "Payment needs action",
  "membership.activated": "Membership activated",
  "membership.deactivated": "Membership ended",
  "membership.cancel_at_period_end_changed": "Cancellation at period end changed",
  "membership.updated": "Membership updated",
  "membership.trial_ending_soon": "Trial ending soon",
  "invoice.past_due": "Invoice past due",
  "invoice.paid": "Invoice paid",
  "refund.created": "Refund",
  "dispute.created": "Dispute opened",
};

export const JOB_STATUS_WORDS: Record<string, string> = {
  pending: "Scheduled",
  claimed: "Sending",
  sent: "Delivered",
  failed: "Failed",
  dead: "Gave up",
  cancelled: "Cancelled",
  suppressed: "Suppressed",
  skipped: "Skipped",
};

export const ATTEMPT_STATUS_WORDS: Record<string, string> = {
  sent: "Delivered",
  retry: "Will retry",
  failed: "Failed",
  dead: "Gave up",
  skipped: "Skipped",
};

export const ACTION_WORDS: Record<string, string> = {
  "case.nudge": "Nudge sent from the dashboard",
  "case.dismiss": "Case dismissed",
  "membership.cancel_at_period_end": "Membership set to cancel at period end",
};

export const words = (map: Record<string, string>, code: string | null | undefined): string =>
  code ? map[code] ?? code : "—";

/** "Nudge 1" for the first scheduled step, "Manual nudge" for one sent from the dashboard. */
export function nudgeName(job: { channel: string; step: number; origin: string }): string {
  if (job.channel === "incentive") return "Free days";
  return job.origin === "manual" ? "Manual nudge" : `Nudge ${job.step + 1}`;
}

const JOB_TONE: Record<string, string> = {
  sent: "good",
  pending: "neutral",
  claimed: "neutral",
  retry: "warn",
  failed: "bad",
  dead: "bad",
  cancelled: "muted",
  suppressed: "muted",
  skipped: "muted",
};

/** A delivery status (of a job or one attempt) as a small coloured label. */
export function DeliveryBadge({ status, words: labels }: { status: string; words: Record<string, string> }) {
  return (
    <span class={`cases-pill cases-pill-${JOB_TONE[status] ?? "neutral"}`}>{labels[status] ?? status}</span>
  );
}
