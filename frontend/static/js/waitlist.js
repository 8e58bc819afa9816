// A full course's waitlist on its page: "Join the waitlist — you'd be #N", the place in
// line (live: `waitlist.position`), a seat offer with its countdown and "Enroll now"
// (`waitlist.offer`: the enrollment form comes back, using the held seat), an offer that
// ran out (`waitlist.expired`), and leaving. The line's length arrives as `course.waitlist`.

import { api } from "./api.js";
import { heldSeatLine } from "./checkout.js";
import { $, announce, clear, h, setBusy } from "./ui.js";

// "Join the waitlist — you'd be #3" (the count of those waiting, when known).
export function joinLabel(waiting) {
  return Number.isInteger(waiting) ? `Join the waitlist — you’d be #${waiting + 1}` : "Join the waitlist";
}

// "You’re #1 in line" / "You’re #4 in line".
export function placeText(position) {
  return position === 1 ? "You’re next in line." : `You’re #${position} in line.`;
}

// "12 people are waiting" (0 and 1 read naturally).
export function waitingText(waiting) {
  if (!Number.isInteger(waiting) || waiting <= 0) return "Nobody is waiting yet.";
  return waiting === 1 ? "1 person is waiting." : `${waiting} people are waiting.`;
}

// What happens when a seat frees, with the offer's time when the page knows it.
export function offerHint(minutes) {
  const held = Number.isFinite(minutes) && minutes > 0 ? `for ${minutes} minute${minutes === 1 ? "" : "s"}` : "for a while";
  return `When a seat frees, it is held for you ${held} and we email you.`;
}

// The panel's state from what the page knows: the visitor's place (or null), whether
// the course is full, whether they are enrolled, and an offer that ran out here.
export function panelState({ signedIn, full, enrolled, place, lapsed }) {
  if (enrolled) return "hidden";
  if (place?.status === "offered") return "offered";
  if (place?.status === "waiting") return "waiting";
  if (lapsed && full) return "lapsed";
  if (!full) return "hidden";
  return signedIn ? "join" : "signin";
}

export function mountWaitlist({ panel, course, user, socket, enrollForm, slug = course.slug }) {
  let place = null;
  let waiting = null;
  let full = false;
  let enrolled = false;
  let lapsed = false;
  let stopCountdown = () => {};
  let shown = null; // the state rendered last, to move focus only on a change
  const url = `/api/courses/${encodeURIComponent(slug)}/waitlist`;

  function button(label, attrs, onClick) {
    const element = h("button", { type: "button", ...attrs }, label);
    element.addEventListener("click", () => onClick(element));
    return element;
  }

  function fail(error) {
    const note = $("#waitlist-error", panel);
    if (note) {
      note.textContent = error.code === "throttled" ? `Too many tries. Try again in ${error.retryAfter ?? 60} seconds.` : error.message;
      note.hidden = false;
    }
  }

  async function join(element) {
    setBusy(element, true, "Joining…");
    try {
      const answer = await api(url, { method: "POST" });
      place = answer;
      lapsed = false;
      render();
      announce(placeText(answer.position));
    } catch (error) {
      setBusy(element, false);
      if (error.code === "course_not_full") {
        full = false; // a seat freed meanwhile: the form is back
        render();
        announce("A seat is free: you can enroll now.");
        return;
      }
      fail(error);
    }
  }

  async function leave(element) {
    const offered = place?.status === "offered";
    setBusy(element, true, offered ? "Declining…" : "Leaving…");
    try {
      await api(url, { method: "DELETE" });
    } catch (error) {
      if (error.code !== "not_in_waitlist") {
        setBusy(element, false);
        fail(error);
        return;
      }
    }
    place = null;
    render();
    announce(offered ? "You declined the seat; it goes to the next person in line." : "You left the waitlist.");
  }

  function offerLine() {
    const held = heldSeatLine({
      id: "offer-line",
      iso: place.offer_expires_at,
      warning: "take your seat",
      ended: "Your offer ran out. Passing the seat on…",
    });
    stopCountdown = held.stop;
    return held.line;
  }

  function render() {
    stopCountdown();
    stopCountdown = () => {};
    const state = panelState({ signedIn: Boolean(user), full, enrolled, place, lapsed });
    const changed = state !== shown;
    shown = state;
    panel.hidden = state === "hidden";
    panel.dataset.state = state;
    // The enrollment form is for a free seat, or for the seat an offer holds.
    enrollForm?.offer(state === "offered");
    const error = h("p", { class: "field-error", id: "waitlist-error", role: "alert", hidden: true });
    const hint = h("p", { class: "muted small" }, offerHint(Number(panel.dataset.offerMinutes)));
    switch (state) {
      case "hidden":
        clear(panel);
        return;
      case "signin":
        clear(
          panel,
          h("p", { class: "waitlist-head" }, "This course is full."),
          h("p", { class: "muted small" }, waitingText(waiting)),
          h("a", { class: "button primary block", href: `/signin?next=${encodeURIComponent(location.pathname)}` }, "Sign in to join the waitlist"),
        );
        return;
      case "join":
        clear(
          panel,
          h("p", { class: "waitlist-head" }, "This course is full."),
          h("p", { class: "muted small", id: "waitlist-count" }, waitingText(waiting)),
          button(joinLabel(waiting), { class: "button primary block", id: "waitlist-join" }, join),
          hint,
          error,
        );
        return;
      case "lapsed":
        clear(
          panel,
          h("p", { class: "waitlist-head" }, "Your seat offer ran out."),
          h("p", { class: "muted small" }, "The seat went to the next person in line. You can join the waitlist again."),
          button(joinLabel(waiting), { class: "button primary block", id: "waitlist-join" }, join),
          error,
        );
        if (changed) $("#waitlist-join", panel).focus();
        return;
      case "waiting":
        clear(
          panel,
          h("p", { class: "waitlist-head" }, h("span", { class: "badge state-waiting" }, "On the waitlist")),
          h("p", { class: "waitlist-place", id: "waitlist-place" }, placeText(place.position)),
          h("p", { class: "muted small" }, waitingText(waiting)),
          hint,
          button("Leave the waitlist", { class: "button ghost block", id: "waitlist-leave" }, leave),
          error,
        );
        return;
      case "offered":
        clear(
          panel,
          h("p", { class: "waitlist-head" }, h("span", { class: "badge state-offer" }, "A seat is yours")),
          h("p", {}, "A seat freed and it is held for you. Enroll below before the time runs out."),
          offerLine(),
          button("Decline the seat", { class: "button ghost block", id: "waitlist-leave" }, leave),
          error,
        );
        return;
      default:
    }
  }

  function mine(frame) {
    return frame.course === slug;
  }

  socket.on("course.waitlist", (frame) => {
    if (!mine(frame)) return;
    waiting = frame.waiting;
    const count = $("#waitlist-count", panel);
    const join = $("#waitlist-join", panel);
    if (count) count.textContent = waitingText(waiting);
    if (join && !join.disabled) join.textContent = joinLabel(waiting);
    if (!count && !join && shown !== "hidden") render();
  });
  socket.on("waitlist.position", (frame) => {
    if (!mine(frame)) return;
    const moved = place?.status === "waiting" && place.position !== frame.position;
    place = { ...(place ?? {}), status: "waiting", position: frame.position };
    render();
    if (moved) announce(placeText(frame.position));
  });
  socket.on("waitlist.offer", (frame) => {
    if (!mine(frame)) return;
    place = { ...(place ?? {}), status: "offered", position: null, offer_expires_at: frame.offer_expires_at };
    lapsed = false;
    render();
    announce("A seat is held for you. Enroll now to take it.");
  });
  socket.on("waitlist.expired", (frame) => {
    if (!mine(frame)) return;
    place = null;
    lapsed = true;
    render();
    announce("Your seat offer ran out and passed to the next person in line.");
  });
  socket.on("waitlist.left", (frame) => {
    if (!mine(frame)) return;
    place = null;
    render();
  });

  return {
    // Seats changed (course.seats, or the page's first load).
    seats(isFull) {
      full = isFull;
      render();
    },
    // The visitor holds an enrollment (found on load, or just made): no waitlist.
    enrolled() {
      enrolled = true;
      render();
    },
    // The visitor's place, read once on load (signed in, a course with a capacity).
    async load() {
      if (!user || course.capacity === null || course.capacity === undefined) return;
      try {
        const mine = await api(`/api/me/waitlist?course=${encodeURIComponent(slug)}`);
        place = mine.results[0] ?? null;
      } catch {
        place = null; // unknown: the join button answers for itself (200 with the place)
      }
      render();
    },
  };
}
