// The studio's two dialogs (native <dialog>, modal: focus stays inside, Escape closes):
// "Delete …?" and "Changed somewhere else" (a 409 edit_conflict: theirs beside mine).

import { $, clear, h } from "./ui.js";

function ask(dialog) {
  return new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true });
    dialog.showModal();
  });
}

// Resolves true when the person confirmed.
export async function confirmDelete(title, text, { action = "Delete", dismiss = "Cancel" } = {}) {
  const dialog = $("#confirm-dialog");
  $("#confirm-title", dialog).textContent = title;
  $("#confirm-text", dialog).textContent = text;
  $("#confirm-yes", dialog).textContent = action;
  $("#confirm-no", dialog).textContent = dismiss;
  return (await ask(dialog)) === "confirm";
}

function shown(value) {
  if (value === null || value === undefined || value === "") return "(empty)";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  const text = String(value);
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

// mine: {field: my unsaved value}; theirs: the object as stored now; labels: field → name.
// Resolves "theirs", "mine" or "" (closed without choosing: nothing happens).
export async function resolveConflict({ mine, theirs, labels = {} }) {
  const dialog = $("#conflict-dialog");
  const rows = Object.entries(mine)
    .filter(([field]) => field !== "version")
    .map(([field, value]) =>
      h(
        "div",
        { class: "conflict-row" },
        h("dt", {}, labels[field] ?? field),
        h("dd", {}, h("span", { class: "conflict-who" }, "Yours: "), shown(value)),
        h("dd", {}, h("span", { class: "conflict-who" }, "Theirs: "), shown(theirs?.[field])),
      ),
    );
  clear($("#conflict-diff", dialog), rows.length ? h("dl", {}, rows) : null);
  return ask(dialog);
}
