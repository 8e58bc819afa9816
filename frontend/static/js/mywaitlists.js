// "My learning": the waitlists the student is in, with their place or the seat an offer
// holds (a countdown and a link to take it), kept current by the waitlist events.

import { api } from "./api.js";
import { clockText, startCountdown } from "./checkout.js";
import { $, clear, h } from "./ui.js";
import { placeText } from "./waitlist.js";

const EVENTS = ["waitlist.position", "waitlist.offer", "waitlist.expired", "waitlist.left", "enrollment.status"];

export function mountMyWaitlists({ socket, root = $("#my-waitlists") }) {
  const list = $("#my-waitlists-list", root);
  let stops = [];
  let known = false; // the student has had a place: an enrollment may end one

  function item(place) {
    const link = h("a", { href: `/courses/${encodeURIComponent(place.course)}` }, place.title ?? place.course);
    if (place.status !== "offered") return h("li", { class: "waitlist-item" }, link, h("span", { class: "muted" }, placeText(place.position)));
    const clock = h("strong", { role: "timer", "aria-live": "off" }, "");
    stops.push(startCountdown(place.offer_expires_at, (left) => (clock.textContent = left > 0 ? clockText(left) : "0:00")));
    return h(
      "li",
      { class: "waitlist-item offered" },
      link,
      h("span", {}, "A seat is held for you for ", clock, "."),
      h("a", { class: "button primary small", href: `/courses/${encodeURIComponent(place.course)}` }, "Take your seat"),
    );
  }

  async function load() {
    let places;
    try {
      places = (await api("/api/me/waitlist")).results;
    } catch {
      return; // the section stays as it was; the next event tries again
    }
    for (const stop of stops) stop();
    stops = [];
    known = known || places.length > 0;
    root.hidden = places.length === 0;
    clear(list, places.map(item));
  }

  for (const type of EVENTS) {
    socket.on(type, () => {
      if (type !== "enrollment.status" || known) load();
    });
  }
  return { load };
}
