// Why a nudge did not go out, in a creator's words. The dispatcher records Whop's answer as it came
// ("503: Injected sandbox fault flt_…", "429: …", "gave up after 5 attempts: …"); the case page shows
// what it means and what to do, and keeps the technical text on hover for whoever debugs it.

const TRIES_AGAIN = "Churn Saver tries again by itself.";

export function nudgeProblem(httpStatus: number | null, error: string | null): string | null {
  if (!error && httpStatus === null) return null;
  const text = error ?? "";
  const gaveUp = /^gave up after (\d+) attempts: /.exec(text);
  const status = httpStatus ?? statusIn(gaveUp ? text.slice(gaveUp[0].length) : text);
  const meaning = statusWords(status, text);
  if (gaveUp) {
    return `Churn Saver gave up after ${gaveUp[1]} tries. ${meaning.replace(` ${TRIES_AGAIN}`, "")}`;
  }
  if (/^rate limited \d+ times/.test(text)) {
    return "Whop kept asking Churn Saver to slow down, so it stopped trying.";
  }
  return meaning;
}

function statusIn(text: string): number | null {
  const match = /^(?:HTTP )?([1-5]\d\d)\b/.exec(text);
  return match ? Number(match[1]) : null;
}

function statusWords(status: number | null, text: string): string {
  if (status === 429) return `Whop asked Churn Saver to slow down. ${TRIES_AGAIN}`;
  if (status !== null && status >= 500) return `Whop had a temporary problem. ${TRIES_AGAIN}`;
  if (status === 401 || status === 403) {
    return "Whop refused to deliver it: the member may have turned off messages, or the app lost a permission in your Whop dashboard.";
  }
  if (status === 404) {
    return "Whop could not find the member or the experience. Check the experience in Settings.";
  }
  if (status === 400 || status === 422) return "Whop did not accept the message. Check its text in Settings.";
  if (status !== null) return `Whop answered with an error (HTTP ${status}).`;
  if (/outcome still unknown|may have been delivered/i.test(text)) {
    return "Whop did not say whether it arrived: it may have been delivered.";
  }
  if (/time(d)? ?out|did not answer|network|connection/i.test(text)) {
    return `Whop did not answer in time. ${TRIES_AGAIN}`;
  }
  if (/circuit|breaker/i.test(text)) {
    return `Whop has been failing for everyone, so sending is held for a moment. ${TRIES_AGAIN}`;
  }
  // Churn Saver's own reasons ("push turned off in settings") are already words: as a sentence.
  return text
    ? `${text[0].toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}`
    : "Something went wrong.";
}
