// Everything that happened to a case, oldest first: the membership's events, every delivery attempt
// of its nudges, clicks on its recovery links (bots marked), and what admins did to it.
import type { CaseDetail } from "../../queries/case_detail.ts";
import { DateTime, formatMoney } from "../ui.tsx";
import { nudgeProblem } from "./nudge_problem.ts";
import {
  ACTION_WORDS,
  ATTEMPT_STATUS_WORDS,
  ATTRIBUTION_WORDS,
  CHANNEL_WORDS,
  EVENT_WORDS,
  nudgeName,
  REASON_WORDS,
  statusWords,
  words,
} from "./CaseLabels.tsx";

type Kind = "case" | "event" | "nudge" | "click" | "action";

const BAD_EVENTS = new Set(["payment.failed", "refund.created", "dispute.created"]);

export interface TimelineItem {
  key: string;
  at: Date;
  kind: Kind;
  title: string;
  detail?: string;
  tone?: "good" | "bad" | "muted";
}

export function buildTimeline(detail: CaseDetail, viewerUserId: string): TimelineItem[] {
  const row = detail.case;
  const items: TimelineItem[] = [
    {
      key: "opened",
      at: row.opened_at,
      kind: "case",
      title: "Case opened",
      detail: words(REASON_WORDS, row.reason),
    },
  ];
  if (row.closed_at) {
    items.push({
      key: "closed",
      at: row.closed_at,
      kind: "case",
      title: `Case closed: ${statusWords(row.status, row.closed_by).toLowerCase()}`,
      detail: row.attribution ? words(ATTRIBUTION_WORDS, row.attribution) : undefined,
      tone: row.status === "recovered" ? "good" : undefined,
    });
  }
  for (const event of detail.events) {
    items.push({
      key: `event-${event.id}`,
      at: event.occurred_at,
      kind: "event",
      title: eventTitle(event.type, event.cancel_at_period_end),
      detail: event.amount_minor !== null && event.currency
        ? formatMoney(event.amount_minor, event.currency)
        : undefined,
      tone: BAD_EVENTS.has(event.type) ? "bad" : event.type === "payment.succeeded" ? "good" : undefined,
    });
  }
  const jobs = new Map(detail.jobs.map((job) => [job.id, job]));
  for (const attempt of detail.attempts) {
    const job = jobs.get(attempt.job_id);
    const what = job ? `${nudgeName(job)} (${words(CHANNEL_WORDS, job.channel).toLowerCase()})` : "Nudge";
    const failed = attempt.error || (attempt.http_status !== null && attempt.http_status >= 300);
    const problem = failed ? nudgeProblem(attempt.http_status, attempt.error) : null;
    items.push({
      key: `attempt-${attempt.id}`,
      at: attempt.created_at,
      kind: "nudge",
      title: `${what}: ${words(ATTEMPT_STATUS_WORDS, attempt.status).toLowerCase()}`,
      detail: problem || undefined,
      tone: attempt.status === "sent" ? "good" : attempt.status === "skipped" ? "muted" : "bad",
    });
  }
  for (const click of detail.clicks) {
    items.push({
      key: `click-${click.id}`,
      at: click.clicked_at,
      kind: "click",
      title: click.is_bot ? "Link opened by a bot or link preview" : "Recovery link clicked",
      detail: click.is_bot
        ? "Not counted for attribution."
        : click.led_nowhere
        ? "Whop gave no page for this membership, so the member was shown a page in your name with an “Open Whop” button."
        : undefined,
      tone: click.is_bot ? "muted" : click.led_nowhere ? "bad" : "good",
    });
  }
  for (const action of detail.actions) {
    const channel = typeof action.after?.channel === "string"
      ? ` by ${words(CHANNEL_WORDS, action.after.channel).toLowerCase()}`
      : "";
    items.push({
      key: `action-${action.id}`,
      at: action.created_at,
      kind: "action",
      title: `${words(ACTION_WORDS, action.action)}${action.action === "case.nudge" ? channel : ""}`,
      detail: action.actor === viewerUserId ? "By you" : `By ${action.actor}`,
    });
  }
  return items.sort((a, b) => a.at.getTime() - b.at.getTime());
}

function eventTitle(type: string, cancelAtPeriodEnd: boolean | null): string {
  if (type === "membership.cancel_at_period_end_changed" && cancelAtPeriodEnd !== null) {
    return cancelAtPeriodEnd ? "Member scheduled a cancellation" : "Member undid the cancellation";
  }
  return words(EVENT_WORDS, type);
}

export function CaseTimeline({ items }: { items: TimelineItem[] }) {
  return (
    <ol class="cases-timeline">
      {items.map((item) => (
        <li
          key={item.key}
          class={`cases-timeline-item cases-tl-${item.kind} ${item.tone ? `cases-tone-${item.tone}` : ""}`}
        >
          <DateTime value={item.at} />
          <div>
            <span class="cases-tl-title">{item.title}</span>
            {item.detail && <span class="cases-tl-detail">{item.detail}</span>}
          </div>
        </li>
      ))}
    </ol>
  );
}
