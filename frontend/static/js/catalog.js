// Course cards and the lists they sit in: the home page's browsable grid (GET /api/courses,
// a page at a time) and the search results (home and /search). A card shows its cover
// (generated from the slug, cover.js), category and level, the title (with the search's
// highlights when it is a hit), the summary, rating, seats left, price and instructor.

import { api, query } from "./api.js";
import { courseCover } from "./cover.js";
import { renderHighlight } from "./highlight.js";
import { clear, emptyState, errorState, h, levelLabel, money } from "./ui.js";

// "4.7" of a rating (0–5, a number or a numeric string); null when the course has none.
export function ratingText(rating) {
  if (rating === null || rating === undefined || rating === "") return null;
  const value = Number(rating);
  if (!Number.isFinite(value)) return null;
  return (Math.round(value * 10) / 10).toFixed(1);
}

// Seats left of a course: {text, tone} with tone "full", "few" (10 or fewer) or "open".
export function seatsLeft(course) {
  const capacity = course?.capacity;
  if (capacity === null || capacity === undefined) return { text: "Open enrollment", tone: "open", left: null };
  const left = Math.max(0, Number(capacity) - Number(course.seats_taken || 0));
  if (left === 0) return { text: "Full", tone: "full", left };
  return { text: `${left} seat${left === 1 ? "" : "s"} left`, tone: left <= 10 ? "few" : "open", left };
}

export function courseHref(slug) {
  return `/courses/${encodeURIComponent(slug)}`;
}

function ratingBadge(rating) {
  const text = ratingText(rating);
  if (text === null) return h("span", { class: "rating none" }, "No ratings");
  return h(
    "span",
    { class: "rating" },
    h("span", { class: "rating-star", "aria-hidden": "true" }, "★"),
    h("span", { class: "visually-hidden" }, "Rated "),
    text,
    h("span", { class: "visually-hidden" }, " out of 5"),
  );
}

// `hit`: a search hit, whose highlights (escaped text with <mark>) show in the title and
// summary as text nodes and <mark> elements (highlight.js), never as HTML. `heading`: the
// title's element, one level below the list's heading.
export function courseCard(course, { hit = false, heading = "h3" } = {}) {
  const seats = seatsLeft(course);
  const title = hit ? renderHighlight(course.highlight?.title, course.title) : course.title;
  const summary = hit ? renderHighlight(course.highlight?.summary, course.summary) : course.summary;
  return h(
    "article",
    { class: "card course-card", dataset: { slug: course.slug } },
    courseCover(course.slug),
    h(
      "div",
      { class: "course-card-top" },
      course.category ? h("span", { class: "chip" }, course.category) : null,
      course.level ? h("span", { class: `chip level-${course.level}` }, levelLabel(course.level)) : null,
    ),
    h(heading, { class: "course-card-title" }, h("a", { href: courseHref(course.slug), class: "stretched" }, title)),
    h("p", { class: "course-card-summary" }, summary),
    h("p", { class: "course-card-stats" }, ratingBadge(course.rating), h("span", { class: `seats-left seats-${seats.tone}` }, seats.text)),
    h(
      "div",
      { class: "course-card-foot" },
      h("span", { class: "price" }, money(course.price, course.currency)),
      h("span", { class: "muted small" }, course.instructor?.name ?? ""),
    ),
  );
}

// Cards into a list (an <ol>), each in its <li>; `append` keeps what is there. Returns the
// new items.
export function renderCards(list, courses, { append = false, hit = false, heading = "h3" } = {}) {
  const items = courses.map((course) => h("li", { class: "course-item" }, courseCard(course, { hit, heading })));
  if (append) list.append(...items);
  else clear(list, items);
  return items;
}

export function skeletonItems(count = 6) {
  return Array.from({ length: count }, () =>
    h(
      "li",
      { class: "course-item", "aria-hidden": "true" },
      h("div", { class: "card course-card skeleton" }, h("div", { class: "skeleton-cover" }), h("div", { class: "skeleton-line wide" }), h("div", { class: "skeleton-line" }), h("div", { class: "skeleton-line short" })),
    ),
  );
}

// Keyboard focus to the first of new items (after "Load more"): its title link.
export function focusFirst(items) {
  const link = items[0]?.querySelector(".course-card-title a");
  link?.focus({ preventScroll: false });
  return link ?? null;
}

// The browsable grid: GET /api/courses with the facet filters, `pageSize` at a time.
// `setFilters(filters, {pages})` shows pages 1..pages (what a URL or Back asks for);
// "Load more" adds one and moves focus to its first card. `onPages(n)` hears how many
// pages are shown.
export function mountCourseGrid({ grid, more, summary, message, pageSize = 12, onPages = () => {}, onLoaded = () => {} }) {
  let page = 0; // pages shown
  let filters = {};
  let generation = 0;
  let active = true;

  const fetchPage = (number) => api(`/api/courses${query({ ...filters, page: number, page_size: pageSize })}`);

  function showCount(count) {
    if (summary) summary.textContent = count ? `${count} course${count === 1 ? "" : "s"}` : "";
  }

  async function reset(pages = 1) {
    const mine = ++generation;
    page = 0;
    clear(grid, skeletonItems(pageSize));
    if (message) clear(message);
    grid.setAttribute("aria-busy", "true");
    more.hidden = true;
    try {
      const numbers = Array.from({ length: Math.max(1, pages) }, (_, i) => i + 1);
      const answers = await Promise.all(numbers.map(fetchPage));
      if (mine !== generation) return;
      const results = answers.flatMap((data) => data.results);
      renderCards(grid, results);
      const last = answers[answers.length - 1];
      const count = answers[0].count;
      showCount(count);
      if (!count && message) {
        clear(message, emptyState("No courses match these filters.", "Clear a filter to see more courses."));
      }
      page = Math.max(1, Math.ceil(results.length / pageSize)); // a URL may ask for more than there are
      more.hidden = !last.next;
      onPages(page);
      onLoaded();
    } catch (error) {
      if (mine !== generation) return;
      clear(grid);
      if (message) clear(message, errorState(`The catalog could not be loaded: ${error.message}`, () => reset(pages)));
      onLoaded();
    } finally {
      if (mine === generation) grid.setAttribute("aria-busy", "false");
    }
  }

  async function loadMore() {
    const mine = generation;
    more.hidden = true;
    grid.setAttribute("aria-busy", "true");
    try {
      const data = await fetchPage(page + 1);
      if (mine !== generation) return;
      const items = renderCards(grid, data.results, { append: true });
      page += 1;
      showCount(data.count);
      more.hidden = !data.next;
      onPages(page);
      focusFirst(items);
    } catch (error) {
      if (mine !== generation) return;
      more.hidden = false;
      if (message) clear(message, errorState(`More courses could not be loaded: ${error.message}`, () => loadMore()));
    } finally {
      if (mine === generation) grid.setAttribute("aria-busy", "false");
    }
  }

  more.addEventListener("click", () => {
    if (message) clear(message);
    loadMore();
  });

  return {
    setFilters(next, { pages = 1 } = {}) {
      filters = next;
      active = true;
      return reset(pages);
    },
    // Another view (search results) took the grid: answers still in flight are dropped.
    suspend() {
      active = false;
      generation += 1;
      more.hidden = true;
      grid.setAttribute("aria-busy", "false");
    },
    get active() {
      return active;
    },
  };
}
