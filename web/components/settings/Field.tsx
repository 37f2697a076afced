// A labelled form field with its hint and its error right below it: the control is tied to both
// with aria-describedby, and marked aria-invalid when the error is shown.
import type { ComponentChildren } from "preact";
import type { FieldErrors } from "./form_model.ts";

/** The element id of a form field ("templates.push.0.title" → "f-templates-push-0-title"). */
export function fieldId(name: string): string {
  return `f-${name.replaceAll(".", "-")}`;
}

/** Attributes that tie a control to its label, hint and error. `errorName` names the error that
 * concerns the control when it is shared by a group (the channel checkboxes). */
export function controlProps(name: string, errors: FieldErrors, hint: boolean, errorName = name) {
  const id = fieldId(name);
  const error = errors[errorName] ? `${fieldId(errorName)}-error` : "";
  const describedBy = [hint ? `${id}-hint` : "", error].filter(Boolean).join(" ");
  return {
    id,
    name,
    "aria-invalid": error ? "true" as const : undefined,
    "aria-describedby": describedBy || undefined,
  };
}

export function Field(
  { name, label, hint, errors, children, class: className }: {
    name: string;
    label: string;
    hint?: ComponentChildren;
    errors: FieldErrors;
    /** The control, with controlProps(name, errors, hint !== undefined) spread on it. */
    children: ComponentChildren;
    class?: string;
  },
) {
  const id = fieldId(name);
  return (
    <div class={className ? `field ${className}` : "field"}>
      <label for={id}>{label}</label>
      {children}
      {hint && <p id={`${id}-hint`} class="hint">{hint}</p>}
      <FieldError name={name} errors={errors} />
    </div>
  );
}

export function FieldError({ name, errors }: { name: string; errors: FieldErrors }) {
  if (!errors[name]) return null;
  return <p id={`${fieldId(name)}-error`} class="field-error">{errors[name]}</p>;
}

export function Checkbox(
  { name, label, checked, hint, errors, errorName = name }: {
    name: string;
    label: string;
    checked: boolean;
    hint?: string;
    errors: FieldErrors;
    /** A group's error shown elsewhere (by the group) that also marks this box invalid. */
    errorName?: string;
  },
) {
  const props = controlProps(name, errors, hint !== undefined, errorName);
  return (
    <div class="field checkbox-field">
      <label class="checkbox" for={props.id}>
        <input type="checkbox" {...props} checked={checked} />
        <span>{label}</span>
      </label>
      {hint && <p id={`${props.id}-hint`} class="hint">{hint}</p>}
      {errorName === name && <FieldError name={name} errors={errors} />}
    </div>
  );
}
