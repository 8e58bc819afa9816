// Live course presence (`course.presence`): how many signed-in learners have a course's
// pages open now. A course page or lesson page watches its course with `present: true`
// (its tab counts when a signed-in learner's); other pages watch without it and are told
// the count all the same. The texts and the polite announcer are pure (tested in Node);
// mountCoursePresence is the course page's line.

import { clear, h } from "./ui.js";

// A screen reader hears the course page's line change at most this often (a busy course
// changes every few seconds); the last change is always spoken in the end.
export const ANNOUNCE_EVERY_MS = 10_000;

function count(learners) {
  return Number.isInteger(learners) && learners > 0 ? learners : 0;
}

function learnersWord(n) {
  return `learner${n === 1 ? "" : "s"}`;
}

// The course page's line; "" when there is nothing to say. `counted`: this tab is itself
// one of the learners (a signed-in learner's page), so the count includes the reader.
export function presenceText(learners, { counted = false } = {}) {
  const n = count(learners);
  if (counted) {
    const others = n - 1;
    return others > 0 ? `You and ${others} other ${learnersWord(others)} are here now` : "";
  }
  if (!n) return "";
  return n === 1 ? "1 learner is here now" : `${n} learners are here now`;
}

// The instructor dashboard's badge per course: "2 learners viewing now"; "" for none.
export function viewingText(learners) {
  const n = count(learners);
  return n ? `${n} ${learnersWord(n)} viewing now` : "";
}

// `write(text)` at most once per `every` ms: a change after a quiet spell at once, later
// ones together at the end of the spell (the latest text wins; one that went back to what
// was written says nothing). `shown`: the text already there.
export function throttledText(write, { every = ANNOUNCE_EVERY_MS, timers = globalThis, now = () => Date.now(), shown = "" } = {}) {
  let lastAt = -Infinity;
  let pending = null;
  let handle = null;

  function flush() {
    handle = null;
    const text = pending;
    pending = null;
    if (text === null || text === shown) return;
    shown = text;
    lastAt = now();
    write(text);
  }

  function update(text) {
    if (handle === null && text === shown) return;
    pending = text;
    if (handle !== null) return; // the scheduled write takes the latest text
    const wait = lastAt + every - now();
    if (wait <= 0) flush();
    else handle = timers.setTimeout(flush, wait);
  }

  update.cancel = () => {
    if (handle !== null) timers.clearTimeout(handle);
    handle = null;
    pending = null;
  };
  return update;
}

// The course page's line under its seats: a polite live region, empty (and so silent and
// invisible) while nobody else is there, and while the socket is offline (a count it can
// no longer follow).
export function mountCoursePresence({ socket, slug, counted, after, every = ANNOUNCE_EVERY_MS }) {
  const region = h("div", { id: "presence", class: "presence", role: "status", "aria-live": "polite" });
  after.after(region);
  const update = throttledText((text) => clear(region, text ? h("p", { class: "muted small" }, text) : null), { every });
  socket.on("course.presence", (frame) => {
    if (frame.course === slug) update(presenceText(frame.learners, { counted }));
  });
  socket.on("status", ({ state }) => {
    if (state === "offline") update("");
  });
  return region;
}
