// The browsable course grid under the search box (GET /api/courses), filtered by the same
// facet selects, a page at a time.

import { api, query } from "./api.js";
import { clear, emptyState, errorState, h, levelLabel, money, seatsText, skeletonCards } from "./ui.js";

export function courseCard(course) {
  const seats = course.capacity === null || course.capacity === undefined ? null : Math.max(0, course.capacity - course.seats_taken);
  return h(
    "article",
    { class: "card course-card" },
    h(
      "div",
      { class: "course-card-top" },
      h("span", { class: "chip" }, course.category),
      h("span", { class: `chip level-${course.level}` }, levelLabel(course.level)),
    ),
    h("h3", { class: "course-card-title" }, h("a", { href: `/courses/${encodeURIComponent(course.slug)}`, class: "stretched" }, course.title)),
    h("p", { class: "course-card-summary" }, course.summary),
    h(
      "div",
      { class: "course-card-foot" },
      h("span", { class: "price" }, money(course.price, course.currency)),
      h("span", { class: "muted small" }, course.instructor?.name ?? ""),
    ),
    seats !== null && seats <= 10 ? h("p", { class: `seats-hint${seats === 0 ? " full" : ""}` }, seatsText(course.seats_taken, course.capacity)) : null,
  );
}

export function mountCourseGrid({ grid, more, summary, pageSize = 12 }) {
  let page = 1;
  let filters = {};
  let generation = 0;

  async function load({ reset = false } = {}) {
    const mine = reset ? ++generation : generation;
    if (reset) {
      page = 1;
      clear(grid, skeletonCards(6));
    }
    grid.setAttribute("aria-busy", "true");
    more.hidden = true;
    try {
      const data = await api(`/api/courses${query({ ...filters, page, page_size: pageSize })}`);
      if (mine !== generation) return;
      if (reset) clear(grid);
      grid.append(...data.results.map(courseCard));
      if (summary) summary.textContent = data.count ? `${data.count} course${data.count === 1 ? "" : "s"}` : "";
      if (!data.count) {
        clear(grid, emptyState("No courses match these filters.", "Clear a filter to see more courses."));
      }
      more.hidden = !data.next;
      page += 1;
    } catch (error) {
      if (mine !== generation) return;
      if (reset) clear(grid);
      grid.append(errorState(`The catalog could not be loaded: ${error.message}`, () => load({ reset })));
    } finally {
      if (mine === generation) grid.setAttribute("aria-busy", "false");
    }
  }

  more.addEventListener("click", () => load());

  return {
    setFilters(next) {
      filters = next;
      return load({ reset: true });
    },
  };
}
