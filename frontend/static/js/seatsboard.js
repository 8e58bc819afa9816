// The instructor dashboard's seats board: per published course, seats taken, the
// waitlist's length and the offers held, live (`course.seats` and `course.waitlist` to
// watchers), and a form to raise the capacity (PATCH /api/courses/{slug}), which offers
// the new seats to the line at once.

import { api } from "./api.js";
import { debounce } from "./debounce.js";
import { $, announce, clear, emptyState, errorState, h, setBusy } from "./ui.js";

const WATCH_LIMIT = 50; // the socket's own limit on watched courses

// "12 / 20" or "12 · unlimited".
export function seatsLabel(taken, capacity) {
  return capacity === null || capacity === undefined ? `${taken} · unlimited` : `${taken} / ${capacity}`;
}

// "3 waiting" / "3 waiting · 2 offers held".
export function lineLabel(waiting, offered) {
  const parts = [`${waiting} waiting`];
  if (offered) parts.push(`${offered} offer${offered === 1 ? "" : "s"} held`);
  return parts.join(" · ");
}

export function mountSeatsBoard({ socket, root = $("#seats-board") }) {
  const rows = new Map(); // slug → course row of GET /api/instructor/seats
  const watched = new Set();

  function cell(slug, name) {
    return root.querySelector(`[data-${name}="${CSS.escape(slug)}"]`);
  }

  function paint(row) {
    const seats = cell(row.slug, "seats");
    const line = cell(row.slug, "line");
    if (seats) seats.textContent = seatsLabel(row.seats_taken, row.capacity);
    if (line) line.textContent = lineLabel(row.waiting, row.offered);
    const tr = root.querySelector(`tr[data-course="${CSS.escape(row.slug)}"]`);
    tr?.classList.toggle("has-line", row.waiting > 0);
  }

  function capacityForm(row) {
    const id = `capacity-${row.slug}`;
    const input = h("input", {
      id,
      name: "capacity",
      type: "number",
      inputmode: "numeric",
      min: String(Math.max(1, row.seats_taken)),
      value: row.capacity ?? "",
      placeholder: "Unlimited",
      class: "capacity-input",
      "aria-describedby": `${id}-error`,
    });
    const save = h("button", { type: "submit", class: "button secondary small" }, "Save");
    const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
    const form = h(
      "form",
      { class: "capacity-form", novalidate: true, dataset: { capacity: row.slug } },
      h("label", { for: id, class: "visually-hidden" }, `Capacity of ${row.title}`),
      input,
      save,
      error,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      const current = rows.get(row.slug);
      const text = input.value.trim();
      const capacity = text === "" ? null : Number(text);
      if (capacity !== null && (!Number.isInteger(capacity) || capacity < 1)) {
        error.textContent = "Enter a whole number of seats, or leave it empty for unlimited.";
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        return;
      }
      input.removeAttribute("aria-invalid");
      setBusy(save, true, "Saving…");
      try {
        const course = await api(`/api/courses/${encodeURIComponent(row.slug)}`, { method: "PATCH", body: { capacity, version: current.version } });
        Object.assign(current, { capacity: course.capacity, version: course.version ?? current.version + 1 });
        await refresh();
        const after = rows.get(row.slug);
        announce(`${row.title}: capacity ${capacity ?? "unlimited"}. ${after?.offered ? `${after.offered} seat offer${after.offered === 1 ? "" : "s"} held for the waitlist.` : ""}`);
      } catch (failure) {
        error.textContent = failure.code === "edit_conflict" ? "This course changed meanwhile; the board was reloaded, try again." : failure.fields?.capacity?.[0] ?? failure.message;
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        if (failure.code === "edit_conflict") refresh();
      } finally {
        setBusy(save, false);
      }
    });
    return form;
  }

  function table(list) {
    return h(
      "table",
      { class: "table seats-table" },
      h("caption", { class: "visually-hidden" }, "Seats, waitlist and capacity per course, live"),
      h(
        "thead",
        {},
        h("tr", {}, h("th", { scope: "col" }, "Course"), h("th", { scope: "col", class: "num" }, "Seats taken"), h("th", { scope: "col" }, "Waitlist"), h("th", { scope: "col" }, "Capacity")),
      ),
      h(
        "tbody",
        {},
        list.map((row) =>
          h(
            "tr",
            { dataset: { course: row.slug } },
            h("th", { scope: "row" }, h("a", { href: `/courses/${encodeURIComponent(row.slug)}` }, row.title)),
            h("td", { class: "num", dataset: { seats: row.slug, label: "Seats taken" } }, seatsLabel(row.seats_taken, row.capacity)),
            h("td", { dataset: { line: row.slug, label: "Waitlist" } }, lineLabel(row.waiting, row.offered)),
            h("td", { dataset: { label: "Capacity" } }, capacityForm(row)),
          ),
        ),
      ),
    );
  }

  async function refresh() {
    const body = await api("/api/instructor/seats");
    for (const row of body.courses) {
      const known = rows.get(row.slug);
      if (known) {
        Object.assign(known, row);
        paint(known);
      }
    }
    if (body.courses.some((row) => !rows.has(row.slug))) await load();
  }
  const refreshSoon = debounce(() => refresh().catch(() => {}), 400);

  async function load() {
    root.setAttribute("aria-busy", "true");
    try {
      const body = await api("/api/instructor/seats");
      rows.clear();
      for (const row of body.courses) rows.set(row.slug, row);
      if (!body.courses.length) clear(root, emptyState("No published courses.", "Seats and waitlists of your published courses show here."));
      else clear(root, table(body.courses));
      for (const row of body.courses.slice(0, WATCH_LIMIT)) {
        if (watched.has(row.slug)) continue;
        watched.add(row.slug);
        socket.watch(row.slug);
      }
    } catch (error) {
      clear(root, errorState(`Seats could not be loaded: ${error.message}`, load));
    } finally {
      root.setAttribute("aria-busy", "false");
    }
  }

  socket.on("course.seats", (frame) => {
    const row = rows.get(frame.course);
    if (!row) return;
    Object.assign(row, { seats_taken: frame.seats_taken, capacity: frame.capacity });
    paint(row);
    refreshSoon(); // the offers held are not in the frame
  });
  socket.on("course.waitlist", (frame) => {
    const row = rows.get(frame.course);
    if (!row) return;
    row.waiting = frame.waiting;
    paint(row);
    refreshSoon();
  });

  return { load };
}
