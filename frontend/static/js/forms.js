// Inline errors for a form whose controls carry data-field="<API field name>" and an
// error paragraph #error-<name> (dots become dashes). Errors that belong to no field go to
// the form's #form-error, or to `general` for a second form on the page (ids are unique).

import { clear } from "./ui.js";

export function formErrors(form, { general = form.querySelector("#form-error") } = {}) {
  function reset() {
    if (general) {
      general.hidden = true;
      general.replaceChildren();
    }
    for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
    for (const message of form.querySelectorAll(".field-error")) {
      message.hidden = true;
      message.textContent = "";
    }
  }

  function top(...content) {
    if (!general) return;
    clear(general, ...content);
    general.hidden = false;
    general.scrollIntoView({ block: "nearest" });
  }

  // fields: {"email": ["…"], "student.email": ["…"]}; returns the names shown inline.
  function fields(map) {
    const shown = [];
    const rest = [];
    for (const [name, value] of Object.entries(map ?? {})) {
      const text = [].concat(value).join(" ");
      const control = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
      const message = form.querySelector(`#error-${CSS.escape(name.replaceAll(".", "-"))}`);
      if (!control || !message) {
        rest.push(text);
        continue;
      }
      control.setAttribute("aria-invalid", "true");
      message.textContent = text;
      message.hidden = false;
      shown.push(name);
    }
    if (rest.length) top(rest.join(" "));
    // Focus the first invalid control in the form's order (not the API's).
    const first = form.querySelector('[aria-invalid="true"]');
    (first?.matches("fieldset") ? (first.querySelector("input") ?? first) : first)?.focus();
    return shown;
  }

  return { reset, top, fields };
}
