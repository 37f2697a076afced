// The set-up checklist a company sees (overview and settings) until its creator has made the three
// choices nudges depend on: the experience pushes come from, the time zone of the send hour, and the
// incentive. Each item says whether it is done; the links go to the field on the settings page.
import type { SetupState } from "../../queries/settings.ts";

interface Item {
  key: "experience" | "time_zone" | "incentive";
  done: boolean;
  title: string;
  detail: string;
  field: string;
}

export function setupItems(state: SetupState): Item[] {
  return [
    {
      key: "experience",
      done: state.experienceChosen || !state.pushEnabled,
      title: "Choose the experience your pushes come from",
      detail: !state.pushEnabled && !state.experienceChosen
        ? "Push is off, so none is needed."
        : "Whop delivers push notifications to members through one of your experiences.",
      field: "f-experience_id",
    },
    {
      key: "time_zone",
      done: state.timeZoneChosen,
      title: "Confirm your time zone",
      detail: "Later nudges go out at the send hour in this time zone.",
      field: "f-time_zone",
    },
    {
      key: "incentive",
      done: state.incentiveChosen,
      title: "Decide on free days",
      detail: "Offer members free days to stay, or none.",
      field: "f-incentive_choice",
    },
  ];
}

/** `settingsHref` is the settings page's path; on that page itself pass "" so links stay in the page. */
export function SetupChecklist({ state, settingsHref }: { state: SetupState; settingsHref: string }) {
  if (state.done) return null;
  const items = setupItems(state);
  const left = items.filter((item) => !item.done).length;
  return (
    <section
      class="card setup-checklist"
      aria-labelledby="setup-heading"
      data-testid="setup-checklist"
      data-setup-left={left}
    >
      <h2 id="setup-heading">Finish setting up Churn Saver</h2>
      <p class="muted setup-progress" role="status">
        {items.length - left} of {items.length} done. Until then, cases use the defaults shown in settings.
      </p>
      <ol class="setup-items">
        {items.map((item) => (
          <li key={item.key} data-setup-item={item.key} data-done={String(item.done)}>
            <span class={item.done ? "setup-mark done" : "setup-mark"} aria-hidden="true">
              {item.done ? "✓" : ""}
            </span>
            <span>
              <span class="sr-only">{item.done ? "Done: " : "To do: "}</span>
              {item.done ? item.title : <a href={`${settingsHref}#${item.field}`}>{item.title}</a>}
              <span class="setup-detail muted">{item.detail}</span>
            </span>
          </li>
        ))}
      </ol>
      {settingsHref && (
        <a class="button primary" href={settingsHref}>
          Open settings
        </a>
      )}
    </section>
  );
}
