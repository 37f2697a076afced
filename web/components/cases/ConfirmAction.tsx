// The confirmation step of a case action: what will happen, then one POST button (works without
// JavaScript) and a way back that changes nothing.
import type { ComponentChildren } from "preact";

export function ConfirmAction(
  { action, confirmLabel, danger = false, backHref, children, fields }: {
    action: string;
    confirmLabel: string;
    danger?: boolean;
    backHref: string;
    /** What will happen, in words. */
    children: ComponentChildren;
    /** Choices that go with the confirmation (e.g. the channel of a nudge). */
    fields?: ComponentChildren;
  },
) {
  return (
    <section class="card cases-confirm">
      <div class="cases-confirm-text">{children}</div>
      <form method="post" action={action}>
        {fields}
        <div class="page-actions">
          <button type="submit" class={danger ? "button danger" : "button primary"}>{confirmLabel}</button>
          <a class="button" href={backHref}>Go back without changes</a>
        </div>
      </form>
    </section>
  );
}
