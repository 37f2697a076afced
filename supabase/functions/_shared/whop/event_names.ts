// One spelling per Whop event. Whop has sent the same event as `payment.failed` (v1),
// `app_payment.failed` (legacy app webhooks) and `payment_failed` (old GraphQL enum); everything
// downstream matches on the dotted v1 name only.

/** The normalised types the churn flow reacts to (WHOP.md 1.1). */
export const CHURN_EVENT_TYPES: readonly string[] = Object.freeze([
  "payment.failed",
  "payment.succeeded",
  "payment.pending",
  "payment.requires_action",
  "membership.activated",
  "membership.deactivated",
  "membership.cancel_at_period_end_changed",
  "membership.updated",
  "membership.trial_ending_soon",
  "invoice.past_due",
  "invoice.paid",
  "refund.created",
  "dispute.created",
]);

// Longest first, so `app_membership_x` is not read as `app` + `membership_x` and `dispute_alert_x`
// keeps Whop's own `dispute_alert.` object.
const OBJECT_PREFIXES = [
  "app_membership",
  "dispute_alert",
  "app_payment",
  "membership",
  "payment",
  "invoice",
  "refund",
  "dispute",
];

const LEGACY_ALIASES: Record<string, string> = {
  "membership.went_valid": "membership.activated",
  "membership.went_invalid": "membership.deactivated",
};

const APP_OBJECTS: Record<string, string> = {
  app_payment: "payment",
  app_membership: "membership",
};

/** Maps any spelling Whop has used onto the dotted v1 name. Unknown names come back lowercased and
 * trimmed (they are stored anyway). */
export function normalizeEventName(name: string): string {
  const lowered = name.trim().toLowerCase();
  const dotted = lowered.includes(".") ? lowered : underscoreToDotted(lowered);
  const dot = dotted.indexOf(".");
  if (dot < 0) return dotted;
  const object = dotted.slice(0, dot);
  const withoutApp = `${APP_OBJECTS[object] ?? object}${dotted.slice(dot)}`;
  return LEGACY_ALIASES[withoutApp] ?? withoutApp;
}

/** `payment_requires_action` → `payment.requires_action`: only the underscore right after a known
 * object prefix becomes the dot, the action keeps its own underscores. */
function underscoreToDotted(name: string): string {
  for (const prefix of OBJECT_PREFIXES) {
    if (name.startsWith(`${prefix}_`) && name.length > prefix.length + 1) {
      return `${prefix}.${name.slice(prefix.length + 1)}`;
    }
  }
  return name;
}

/** The object a normalised type is about: `payment.failed` → `payment`. */
export function eventObject(type: string): string {
  const dot = type.indexOf(".");
  return dot < 0 ? type : type.slice(0, dot);
}
