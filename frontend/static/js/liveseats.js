// Seats left on course cards, live. The cards on screen are watched (`watch` → course.seats
// now and on every change) and unwatched when they scroll away or leave the list, so a long
// list of results costs a handful of watches: the server allows 50 per socket, and a card
// off screen needs no updates. A watch answers with the seats as they are, so a card drawn
// from an older answer is corrected as soon as it shows.
//
// The watches follow the cards once they have stayed `settle` ms: while a query is typed
// the results change at every key, and following each would spend the socket's frame
// budget (20 a second) on cards seen for a moment. At most `max` at once, so even a whole
// new set (that many unwatches and watches) fits in one burst of the budget (40).

import { seatsLeft } from "./catalog.js";

export const MAX_LIVE_CARDS = 16;
export const SETTLE_MS = 400;

// The set of courses watched for cards: `show(slugs)` with the courses on screen, in
// order, watches the first `max` of them and unwatches the rest.
export class SeatWatches {
  constructor(socket, { max = MAX_LIVE_CARDS } = {}) {
    this.socket = socket;
    this.max = max;
    this.watching = new Set();
  }

  show(slugs) {
    const wanted = new Set([...new Set(slugs)].slice(0, this.max));
    for (const slug of [...this.watching]) {
      if (wanted.has(slug)) continue;
      this.watching.delete(slug);
      this.socket.unwatch(slug);
    }
    for (const slug of wanted) {
      if (this.watching.has(slug)) continue;
      this.watching.add(slug);
      this.socket.watch(slug);
    }
  }
}

// A card's seats line from a course.seats frame. Returns whether it changed.
export function applySeats(badge, frame) {
  const seats = seatsLeft({ capacity: frame.capacity, seats_taken: frame.seats_taken });
  const className = `seats-left seats-${seats.tone}`;
  if (badge.textContent === seats.text && badge.className === className) return false;
  badge.textContent = seats.text;
  badge.className = className;
  return true;
}

// Live seats for the cards (article.course-card[data-slug]) of `list`, however they come
// and go (renders, "Load more", Back).
export function mountLiveSeats(socket, list, { max = MAX_LIVE_CARDS, settle = SETTLE_MS } = {}) {
  const watches = new SeatWatches(socket, { max });
  const onScreen = new Set(); // card elements
  let timer = null;

  function update() {
    timer = null;
    const slugs = [...list.querySelectorAll("article.course-card[data-slug]")]
      .filter((card) => onScreen.has(card))
      .map((card) => card.dataset.slug);
    watches.show(slugs);
  }
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(update, settle);
  };

  const sight = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) onScreen.add(entry.target);
        else onScreen.delete(entry.target);
      }
      soon();
    },
    { rootMargin: "200px 0px" },
  );

  const observed = new Set();
  function track() {
    const cards = new Set(list.querySelectorAll("article.course-card[data-slug]"));
    for (const card of [...observed]) {
      if (cards.has(card)) continue;
      observed.delete(card);
      onScreen.delete(card);
      sight.unobserve(card);
    }
    for (const card of cards) {
      if (observed.has(card)) continue;
      observed.add(card);
      sight.observe(card);
    }
    soon();
  }
  new MutationObserver(track).observe(list, { childList: true, subtree: true });
  track();

  socket.on("course.seats", (frame) => {
    for (const card of list.querySelectorAll("article.course-card[data-slug]")) {
      if (card.dataset.slug !== frame.course) continue;
      const badge = card.querySelector(".seats-left");
      if (badge) applySeats(badge, frame);
    }
  });
  return watches;
}
