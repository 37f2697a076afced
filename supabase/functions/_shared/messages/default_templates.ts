// The default nudges, per case reason, position in the case's schedule (first, middle, last: the last
// alone says it is the last, whatever the schedule's length) and channel. A member whose payment
// failed, whose bank wants a confirmation, who scheduled a cancellation or whose membership ended each
// read about their own situation. Push is plain text;
// DM content is Markdown. Every variable is optional: `{?x}...{/x}` sections hold what needs a value,
// and a missing {product} reads "your membership", so sentences are written to work either way.
// {incentive} is the case's free days in one sentence: announced by the messages sent before they are
// granted, spoken of as given after. No incentive follows a membership that ended, so those nudges never
// mention one. Without a destination from Whop a message has no link: the renderer then drops
// "here: {recovery_link}" and ends the sentence.

export type Channel = "push" | "dm";

export interface MessageTemplate {
  title?: string;
  content: string;
}

export const CASE_REASONS = [
  "payment_failed",
  "action_required",
  "cancel_scheduled",
  "membership_deactivated",
] as const;
export type CaseReason = typeof CASE_REASONS[number];

const SIGN_OFF = "{?company}\n\n— {company}{/company}";
const INCENTIVE = "{?incentive}\n\n{incentive}{/incentive}";

export const DEFAULT_TEMPLATES_BY_REASON: Record<CaseReason, Record<Channel, MessageTemplate[]>> = {
  payment_failed: {
    push: [
      {
        title: "Your payment didn't go through",
        content:
          "Hi {first_name}, we couldn't process your payment{?amount} of {amount}{/amount} for {product}. " +
          "{?incentive}{incentive} {/incentive}Update your card to keep your access: {recovery_link}",
      },
      {
        title: "Quick reminder about your payment",
        content: "Hi {first_name}, the payment for {product} still needs attention. " +
          "{?incentive}{incentive} {/incentive}" +
          "Updating your card takes a minute: {recovery_link}",
      },
      {
        title: "Last reminder: keep your access",
        content: "Hi {first_name}, this is our last reminder. Your access to {product} ends soon unless " +
          "the payment{?amount} of {amount}{/amount} goes through. {?incentive}{incentive} {/incentive}" +
          "Update your card here: {recovery_link}",
      },
    ],
    dm: [
      {
        content: "Hi {first_name}!\n\n" +
          "Just a heads-up: your payment{?amount} of {amount}{/amount} for **{product}** didn't go through. " +
          "That usually means a card expired or the bank declined the charge.\n\n" +
          "You can update your payment details here: {recovery_link}" + INCENTIVE + SIGN_OFF,
      },
      {
        content: "Hi {first_name}, just checking in.\n\n" +
          "The payment for **{product}** still hasn't gone through, so your access is at risk. " +
          "Updating your payment details takes about a minute: {recovery_link}" +
          INCENTIVE + SIGN_OFF,
      },
      {
        content: "Hi {first_name}, this is our last reminder about **{product}**.\n\n" +
          "Your payment{?amount} of {amount}{/amount} still hasn't gone through, and your access will end " +
          "soon. You can keep it by updating your payment details here: {recovery_link}" +
          INCENTIVE + "\n\n" +
          "Already sorted it out? Thank you, and please ignore this message." + SIGN_OFF,
      },
    ],
  },
  action_required: {
    push: [
      {
        title: "Your payment needs a quick confirmation",
        content: "Hi {first_name}, your bank asked to confirm your payment{?amount} of {amount}{/amount} " +
          "for {product}. {?incentive}{incentive} {/incentive}Confirm it to keep your access: {recovery_link}",
      },
      {
        title: "Reminder: confirm your payment",
        content: "Hi {first_name}, the payment for {product} is still waiting for your confirmation. " +
          "{?incentive}{incentive} {/incentive}" +
          "Confirming it takes a minute: {recovery_link}",
      },
      {
        title: "Last reminder: confirm to keep access",
        content: "Hi {first_name}, this is our last reminder. Your access to {product} ends soon unless " +
          "the payment{?amount} of {amount}{/amount} is confirmed. {?incentive}{incentive} {/incentive}" +
          "Confirm it here: {recovery_link}",
      },
    ],
    dm: [
      {
        content: "Hi {first_name}!\n\n" +
          "Your bank asked to confirm your payment{?amount} of {amount}{/amount} for **{product}** " +
          "(a security check such as 3-D Secure). Until it is confirmed, the payment can't go through.\n\n" +
          "You can confirm it here: {recovery_link}" + INCENTIVE + SIGN_OFF,
      },
      {
        content: "Hi {first_name}, just checking in.\n\n" +
          "The payment for **{product}** is still waiting for your confirmation, so your access is at " +
          "risk. Confirming it takes about a minute: {recovery_link}" +
          INCENTIVE + SIGN_OFF,
      },
      {
        content: "Hi {first_name}, this is our last reminder about **{product}**.\n\n" +
          "Your payment{?amount} of {amount}{/amount} still needs your confirmation, and your access will " +
          "end soon. You can confirm it here: {recovery_link}" +
          INCENTIVE + "\n\n" +
          "Already confirmed it? Thank you, and please ignore this message." + SIGN_OFF,
      },
    ],
  },
  cancel_scheduled: {
    push: [
      {
        title: "Your membership is set to end",
        content: "Hi {first_name}, {product} is set to end when this billing period closes. " +
          "{?incentive}{incentive} {/incentive}Changed your mind? You can keep it here: {recovery_link}",
      },
      {
        title: "There's still time to stay",
        content: "Hi {first_name}, your access to {product} hasn't ended yet. " +
          "{?incentive}{incentive} {/incentive}" +
          "You can keep your membership here: {recovery_link}",
      },
      {
        title: "Last chance to keep your access",
        content: "Hi {first_name}, this is our last reminder: your access to {product} ends soon. " +
          "{?incentive}{incentive} {/incentive}If you'd like to stay, it takes a minute: {recovery_link}",
      },
    ],
    dm: [
      {
        content: "Hi {first_name}!\n\n" +
          "We saw that **{product}** is set to end when this billing period closes. If that was a " +
          "mistake, or you'd like to stay after all, you can keep it here: {recovery_link}" + INCENTIVE +
          "\n\n" +
          "If something wasn't right, just reply: we'd love to hear why." + SIGN_OFF,
      },
      {
        content: "Hi {first_name}, just checking in.\n\n" +
          "Your access to **{product}** is still active until the end of this period. You can keep your " +
          "membership here: {recovery_link}" +
          INCENTIVE + SIGN_OFF,
      },
      {
        content: "Hi {first_name}, this is our last reminder about **{product}**.\n\n" +
          "Your access ends soon. If you'd like to keep it, you can do so here: {recovery_link}" +
          INCENTIVE + "\n\n" +
          "Already decided? Thank you for being with us, and please ignore this message." + SIGN_OFF,
      },
    ],
  },
  membership_deactivated: {
    push: [
      {
        title: "Your access has ended",
        content: "Hi {first_name}, your access to {product} has ended. " +
          "You can come back any time: {recovery_link}",
      },
      {
        title: "Your spot is still here",
        content: "Hi {first_name}, we'd love to have you back in {product}. " +
          "Rejoining takes a minute: {recovery_link}",
      },
      {
        title: "One last note from us",
        content: "Hi {first_name}, this is our last message about {product}. " +
          "If you'd like to come back, you can rejoin here: {recovery_link}",
      },
    ],
    dm: [
      {
        content: "Hi {first_name}!\n\n" +
          "Your access to **{product}** has ended. If that wasn't what you wanted, you can come back any " +
          "time: {recovery_link}" + SIGN_OFF,
      },
      {
        content: "Hi {first_name}, just checking in.\n\n" +
          "Your spot in **{product}** is still here. Rejoining takes about a minute: {recovery_link}" +
          SIGN_OFF,
      },
      {
        content: "Hi {first_name}, this is our last message about **{product}**.\n\n" +
          "If you'd like to come back, you can rejoin here: {recovery_link}\n\n" +
          "Either way, thank you for having been with us." + SIGN_OFF,
      },
    ],
  },
};

/** The defaults for a case's reason; an unknown or missing reason gets the failed-payment ones. */
export function defaultTemplates(reason?: string | null): Record<Channel, MessageTemplate[]> {
  return (CASE_REASONS as readonly string[]).includes(reason ?? "")
    ? DEFAULT_TEMPLATES_BY_REASON[reason as CaseReason]
    : DEFAULT_TEMPLATES_BY_REASON.payment_failed;
}
