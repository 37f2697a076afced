// The row of variables under a template field: "Insert: First name {first_name} · Amount {amount} ...",
// and the field's optional parts in words ("“of {amount}” shows only when the amount is known"), so a
// creator can read the `{?amount}...{/amount}` of the defaults without learning the syntax.
// Server-rendered it lists each variable's name in words with the code to type (the form works
// without JavaScript); in the browser (mounted by the template_preview bundle) each becomes a button
// that inserts the code at the cursor, or at the end when the field was never focused, and tells the
// form so the preview follows; the optional parts follow the edits.
import { useEffect, useState } from "preact/hooks";
import {
  optionalParts,
  SHOWN_WHEN,
  type TemplateVariable,
  VARIABLE_LABELS,
} from "../../../supabase/functions/_shared/messages/template_syntax.ts";

export const VARIABLE_CHIPS_ISLAND = "variable_chips";

export interface VariableChipsProps {
  /** The id of the textarea or input the variables go into. */
  targetId: string;
  /** The field's label, for screen readers ("Insert into Direct message"). */
  fieldLabel: string;
  variables: readonly TemplateVariable[];
  /** The field's text as the page was rendered. */
  text: string;
}

export function VariableChips({ targetId, fieldLabel, variables, text: initialText }: VariableChipsProps) {
  const [interactive, setInteractive] = useState(false);
  const [text, setText] = useState(initialText);
  useEffect(() => {
    // Only in the browser: the server renders the list to type.
    setInteractive(true);
    const field = document.getElementById(targetId);
    if (!(field instanceof HTMLTextAreaElement || field instanceof HTMLInputElement)) return;
    const update = () => setText(field.value);
    update(); // the browser may have restored edits (back button)
    field.addEventListener("input", update);
    return () => field.removeEventListener("input", update);
  }, [targetId]);
  const parts = optionalParts(text);
  return (
    <>
      <Chips targetId={targetId} fieldLabel={fieldLabel} variables={variables} interactive={interactive} />
      {parts.length > 0 && (
        <p class="optional-parts" data-for={targetId}>
          In plain words: {parts.map((part, i) => (
            <span key={i}>
              {i > 0 && "; "}
              {part.text === "" ? "an empty part" : <q>{part.text}</q>} shows only when{" "}
              {SHOWN_WHEN[part.name]}
            </span>
          ))}.
        </p>
      )}
    </>
  );
}

function Chips(
  { targetId, fieldLabel, variables, interactive }: Omit<VariableChipsProps, "text"> & {
    interactive: boolean;
  },
) {
  return (
    <div
      class="variable-chips"
      data-for={targetId}
      role="group"
      aria-label={`Insert a variable into ${fieldLabel}`}
    >
      <span class="variable-chips-label">{interactive ? "Insert:" : "You can type:"}</span>
      {variables.map((name) => {
        const label = VARIABLE_LABELS[name];
        const code = <code>{`{${name}}`}</code>;
        return interactive
          ? (
            <button
              key={name}
              type="button"
              class="chip"
              data-variable={name}
              title={`Insert {${name}} where the cursor is`}
              onClick={() => insertAtCursor(targetId, `{${name}}`)}
            >
              {label} {code}
            </button>
          )
          : <span key={name} class="chip">{label} {code}</span>;
      })}
    </div>
  );
}

const focused = new WeakSet<EventTarget>();
if (typeof document !== "undefined") {
  document.addEventListener("focusin", (event) => {
    if (event.target) focused.add(event.target);
  });
}

function insertAtCursor(targetId: string, text: string) {
  const field = document.getElementById(targetId);
  if (!(field instanceof HTMLTextAreaElement || field instanceof HTMLInputElement)) return;
  const end = field.value.length;
  const [from, to] = focused.has(field)
    ? [field.selectionStart ?? end, field.selectionEnd ?? end]
    : [end, end];
  field.focus();
  field.setRangeText(text, from, to, "end");
  field.dispatchEvent(new Event("input", { bubbles: true }));
}
