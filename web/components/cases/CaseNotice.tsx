// What an action on a case came to, shown on the case page after the redirect. The URL carries only
// a code from this list (never PII or free text); unknown codes show nothing.

const NOTICES: Record<string, { tone: "ok" | "error"; text: string }> = {
  nudge_push: {
    tone: "ok",
    text: "Nudge queued: a push notification goes out with the next dispatch round, usually within a minute.",
  },
  nudge_dm: {
    tone: "ok",
    text: "Nudge queued: a direct message goes out with the next dispatch round, usually within a minute.",
  },
  dismissed: { tone: "ok", text: "Case dismissed. Its pending nudges were cancelled." },
  cancel_requested: {
    tone: "ok",
    text:
      "Whop will cancel this membership when its current billing period ends. The member keeps access until then.",
  },
  cancel_already: {
    tone: "ok",
    text: "Whop was already asked to cancel this membership at the end of its period.",
  },
  not_open: {
    tone: "error",
    text: "This case is closed now, so that action no longer applies. Nothing was changed.",
  },
  cancel_not_applicable: {
    tone: "error",
    text: "Only a membership whose payment is failing can be cancelled from here. Nothing was changed.",
  },
  whop_unavailable: {
    tone: "error",
    text: "Whop did not answer just now, so the membership was not cancelled and nothing was recorded. " +
      "Please try again in a moment.",
  },
  whop_refused: {
    tone: "error",
    text: "Whop refused to cancel this membership, so nothing was changed. Check it in your Whop dashboard.",
  },
  whop_missing: { tone: "error", text: "Whop no longer knows this membership, so nothing was changed." },
};

export type NoticeCode = keyof typeof NOTICES;

export function CaseNotice({ code }: { code: string | undefined }) {
  const notice = code ? NOTICES[code] : undefined;
  if (!notice) return null;
  return notice.tone === "ok"
    ? <div class="notice" role="status" aria-live="polite">{notice.text}</div>
    : <div class="notice error" role="alert">{notice.text}</div>;
}
