// Search as you type: an ARIA 1.2 combobox (input + listbox) fed by `search` frames over
// the page's socket, with GET /api/search when the socket is down or slow.
// Each query gets a larger id; an answer for anything but the newest id is dropped.

import { api, query } from "./api.js";
import { debounce } from "./debounce.js";
import { renderHighlight } from "./highlight.js";
import { clear, h, levelLabel, money } from "./ui.js";

export class SearchSequencer {
  constructor() {
    this.latest = 0;
    this.shown = 0;
  }

  next() {
    this.latest += 1;
    return this.latest;
  }

  // True for the newest query's first answer only (a socket and an HTTP answer to the
  // same id must not both render).
  accept(id) {
    if (typeof id !== "number" || id !== this.latest || id <= this.shown) return false;
    this.shown = id;
    return true;
  }

  pending(id) {
    return id === this.latest && id > this.shown;
  }
}

export function resultsLabel(total) {
  if (!total) return "No results";
  return `${total} result${total === 1 ? "" : "s"}`;
}

export function searchFilters({ category, level, maxPrice } = {}) {
  const filters = {};
  if (category) filters.category = category;
  if (level) filters.level = level;
  if (maxPrice !== undefined && maxPrice !== null && maxPrice !== "") filters.max_price = String(maxPrice);
  return filters;
}

const SOCKET_ANSWER_TIMEOUT = 3000;

export function mountSearch({ socket, input, listbox, popup = listbox, status, detail, empty, getFilters = () => ({}), onFacets = () => {}, limit = 8, wait = 140 }) {
  const sequencer = new SearchSequencer();
  let hits = [];
  let active = -1;
  let httpController = null;
  let fallbackTimer = null;
  let lastQuery = "";

  const isOpen = () => input.getAttribute("aria-expanded") === "true";

  function setOpen(open) {
    const show = open && hits.length > 0;
    input.setAttribute("aria-expanded", show ? "true" : "false");
    popup.hidden = !show;
    if (!show) setActive(-1);
  }

  function setActive(index) {
    const options = [...listbox.querySelectorAll('[role="option"]')];
    active = index;
    options.forEach((option, i) => option.setAttribute("aria-selected", i === index ? "true" : "false"));
    if (index >= 0 && options[index]) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function open(hit) {
    if (hit) location.assign(`/courses/${encodeURIComponent(hit.slug)}`);
  }

  function option(hit, index) {
    const meta = [hit.category, levelLabel(hit.level), money(hit.price, hit.currency)].filter(Boolean).join(" · ");
    const item = h(
      "li",
      { role: "option", id: `search-option-${index}`, class: "option", "aria-selected": "false", dataset: { slug: hit.slug } },
      h("span", { class: "option-title" }, renderHighlight(hit.highlight?.title, hit.title)),
      h("span", { class: "option-summary" }, renderHighlight(hit.highlight?.summary, hit.summary)),
      h("span", { class: "option-meta" }, meta),
    );
    // mousedown would blur the input (and close the list) before the click lands.
    item.addEventListener("mousedown", (event) => event.preventDefault());
    item.addEventListener("click", () => open(hit));
    item.addEventListener("mousemove", () => {
      if (active !== index) setActive(index);
    });
    return item;
  }

  function render(result) {
    clearTimeout(fallbackTimer);
    input.closest(".search")?.setAttribute("aria-busy", "false");
    hits = Array.isArray(result.hits) ? result.hits : [];
    clear(listbox, hits.map(option));
    const total = typeof result.total === "number" ? result.total : hits.length;
    status.textContent = resultsLabel(total);
    if (detail) {
      const parts = [];
      if (hits.length < total) parts.push(`showing ${hits.length}`);
      if (typeof result.took_ms === "number") parts.push(`${Math.round(result.took_ms)} ms`);
      if (result.engine) parts.push(result.engine);
      detail.textContent = parts.join(" · ");
    }
    if (empty) {
      empty.hidden = hits.length > 0;
      if (!hits.length) empty.textContent = `No courses match “${lastQuery}”. Try a shorter word or fewer filters.`;
    }
    setOpen(document.activeElement === input);
    if (result.facets) onFacets(result.facets);
  }

  async function viaHttp(id, q, filters) {
    httpController?.abort();
    const controller = new AbortController();
    httpController = controller;
    try {
      const result = await api(`/api/search${query({ q, limit, ...filters })}`, { signal: controller.signal });
      if (sequencer.accept(id)) render(result);
    } catch (error) {
      if (error.name === "AbortError" || !sequencer.pending(id)) return;
      sequencer.accept(id);
      input.closest(".search")?.setAttribute("aria-busy", "false");
      hits = [];
      clear(listbox);
      setOpen(false);
      status.textContent = "Search is unavailable right now.";
      if (detail) detail.textContent = error.message;
    }
  }

  function run() {
    const q = input.value.trim();
    lastQuery = q;
    clearTimeout(fallbackTimer);
    if (!q) {
      sequencer.next(); // anything in flight is now stale
      hits = [];
      clear(listbox);
      setOpen(false);
      status.textContent = "";
      if (detail) detail.textContent = "";
      if (empty) empty.hidden = true;
      input.closest(".search")?.setAttribute("aria-busy", "false");
      return;
    }
    const id = sequencer.next();
    const filters = searchFilters(getFilters());
    input.closest(".search")?.setAttribute("aria-busy", "true");
    const frame = { type: "search", id, q, limit };
    if (Object.keys(filters).length) frame.filters = filters;
    if (socket?.send(frame)) {
      // A socket that accepted the frame but died silently must not leave the box mute.
      fallbackTimer = setTimeout(() => {
        if (sequencer.pending(id)) viaHttp(id, q, filters);
      }, SOCKET_ANSWER_TIMEOUT);
    } else {
      viaHttp(id, q, filters);
    }
  }

  const scheduled = debounce(run, wait);

  socket?.on("search.results", (frame) => {
    if (!sequencer.accept(frame.id)) return; // superseded by a newer keystroke
    render(frame);
  });
  socket?.on("error", (frame) => {
    if (frame.id !== undefined && sequencer.pending(frame.id)) {
      viaHttp(frame.id, lastQuery, searchFilters(getFilters()));
    }
  });

  input.addEventListener("input", () => scheduled());
  input.addEventListener("focus", () => setOpen(true));
  input.addEventListener("blur", () => setOpen(false));
  input.addEventListener("keydown", (event) => {
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!hits.length) return;
        if (!isOpen()) setOpen(true);
        setActive(active + 1 >= hits.length ? 0 : active + 1);
        break;
      case "ArrowUp":
        event.preventDefault();
        if (!hits.length) return;
        if (!isOpen()) setOpen(true);
        setActive(active <= 0 ? hits.length - 1 : active - 1);
        break;
      case "Enter":
        event.preventDefault();
        if (scheduled.pending()) scheduled.flush();
        if (isOpen() && active >= 0) open(hits[active]);
        break;
      case "Escape":
        event.preventDefault();
        scheduled.cancel();
        input.value = "";
        run();
        break;
      default:
    }
  });

  return {
    refresh: () => {
      if (input.value.trim()) run();
    },
    run,
  };
}
