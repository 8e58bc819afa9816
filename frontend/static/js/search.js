// Search as you type: an ARIA 1.2 combobox (input + listbox) fed by `search` frames over
// the page's socket, with GET /api/search when the socket is down or slow.
//
// Every keystroke sends a search (throttled to one per `interval` ms, well inside the
// socket's frame budget); on the server a newer search supersedes the one in flight.
// Each search gets a larger id, and an answer renders unless a newer one already has, so
// results follow the typing instead of waiting for a pause.
//
// Keys (the APG combobox pattern): ↓/↑ move through the options, Enter opens the active
// option or, with none active, hands the query to `onSubmit` (the results page);
// Escape closes the list, and a second Escape clears the box.

import { api, query } from "./api.js";
import { renderHighlight } from "./highlight.js";
import { resultsLabel, seeAllLabel, stateFilters } from "./searchstate.js";
import { throttle } from "./throttle.js";
import { clear, h, levelLabel, money } from "./ui.js";

export { resultsLabel } from "./searchstate.js";

const optionKey = (choice) => (!choice ? null : choice.kind === "all" ? "all" : `course:${choice.hit.slug}`);

export class SearchSequencer {
  constructor() {
    this.latest = 0;
    this.shown = 0;
  }

  next() {
    this.latest += 1;
    return this.latest;
  }

  // Everything asked so far is stale (the box was cleared): no answer to it renders.
  invalidate() {
    this.latest += 1;
    this.shown = this.latest;
  }

  // True for an answer newer than the one on screen (and only once per id: a socket and
  // an HTTP answer to the same id must not both render).
  accept(id) {
    if (typeof id !== "number" || !Number.isInteger(id) || id > this.latest || id <= this.shown) return false;
    this.shown = id;
    return true;
  }

  // The newest search has no answer on screen yet.
  pending(id) {
    return id === this.latest && id > this.shown;
  }
}

// The socket's `filters` from the page's {category, level, maxPrice}.
export function searchFilters({ category, level, maxPrice } = {}) {
  return stateFilters({ category, level, maxPrice });
}

const SOCKET_ANSWER_TIMEOUT = 1500;
const SENT_KEPT = 20;

export function mountSearch({
  socket,
  input,
  listbox,
  popup = listbox,
  status,
  detail,
  empty,
  getFilters = () => ({}),
  onFacets = () => {},
  onResults = () => {},
  onSubmit = null,
  limit = 8,
  show = 8,
  interval = 60,
}) {
  const sequencer = new SearchSequencer();
  const box = input.closest(".search");
  const sent = new Map(); // id → {q, filters}
  const controllers = new Set();
  let hits = [];
  let options = []; // [{kind: "course", hit} | {kind: "all"}]
  let active = -1;
  let fallbackTimer = null;
  let dismissed = false;
  let shownQuery = "";

  const isOpen = () => input.getAttribute("aria-expanded") === "true";
  const busy = (on) => box?.setAttribute("aria-busy", on ? "true" : "false");

  function setOpen(open) {
    const show = open && !dismissed && options.length > 0;
    input.setAttribute("aria-expanded", show ? "true" : "false");
    popup.hidden = !show;
    if (!show) setActive(-1);
  }

  function setActive(index) {
    const elements = [...listbox.querySelectorAll('[role="option"]')];
    active = index;
    elements.forEach((element, i) => element.setAttribute("aria-selected", i === index ? "true" : "false"));
    if (index >= 0 && elements[index]) {
      input.setAttribute("aria-activedescendant", elements[index].id);
      elements[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(choice) {
    if (!choice) return;
    if (choice.kind === "all") {
      setOpen(false);
      onSubmit?.(input.value.trim());
    } else {
      location.assign(`/courses/${encodeURIComponent(choice.hit.slug)}`);
    }
  }

  function optionElement(choice, index, total, estimate) {
    const attrs = { role: "option", class: "option", "aria-selected": "false" };
    let item;
    if (choice.kind === "all") {
      item = h("li", { ...attrs, id: "search-option-all", class: "option option-all" }, h("span", { class: "option-title" }, seeAllLabel(total, { estimate }), h("span", { "aria-hidden": "true" }, " →")));
    } else {
      const { hit } = choice;
      const meta = [hit.category, levelLabel(hit.level), money(hit.price, hit.currency)].filter(Boolean).join(" · ");
      item = h(
        "li",
        { ...attrs, id: `search-option-${index}`, dataset: { slug: hit.slug } },
        h("span", { class: "option-title" }, renderHighlight(hit.highlight?.title, hit.title)),
        h("span", { class: "option-summary" }, renderHighlight(hit.highlight?.summary, hit.summary)),
        h("span", { class: "option-meta" }, meta),
      );
    }
    // mousedown would blur the input (and close the list) before the click lands.
    item.addEventListener("mousedown", (event) => event.preventDefault());
    item.addEventListener("click", () => choose(choice));
    item.addEventListener("mousemove", () => {
      if (active !== index) setActive(index);
    });
    return item;
  }

  function suggestionButton(suggestion) {
    return h(
      "button",
      {
        type: "button",
        class: "link-button",
        onclick: () => {
          input.value = suggestion;
          input.focus();
          dismissed = false;
          run();
        },
      },
      `Did you mean “${suggestion}”?`,
    );
  }

  function render(result, id) {
    const asked = sent.get(id) ?? { q: input.value.trim() };
    const newest = id === sequencer.latest;
    if (newest) {
      clearTimeout(fallbackTimer);
      busy(false);
    }
    shownQuery = asked.q;
    hits = Array.isArray(result.hits) ? result.hits : [];
    const total = typeof result.total === "number" ? result.total : hits.length;
    const estimate = result.total_is_estimate === true;
    // The option the user moved to stays active if the new answer still lists it.
    const activeKey = active >= 0 ? optionKey(options[active]) : null;
    options = hits.slice(0, show).map((hit) => ({ kind: "course", hit }));
    if (onSubmit && total > 0) options.push({ kind: "all" });
    clear(
      listbox,
      options.map((choice, index) => optionElement(choice, index, total, estimate)),
    );
    setActive(activeKey === null ? -1 : options.findIndex((choice) => optionKey(choice) === activeKey));
    status.textContent = resultsLabel(total, { estimate });
    const listed = Math.min(show, hits.length);
    if (detail) detail.textContent = listed && listed < total ? `Top ${listed} shown` : "";
    if (box) {
      // For tests and debugging; never shown to visitors.
      box.dataset.engine = result.engine ?? "";
      box.dataset.via = result.via ?? "socket";
    }
    if (empty) {
      empty.hidden = hits.length > 0;
      if (!hits.length) {
        const suggestion = typeof result.suggestion === "string" && result.suggestion.trim() ? result.suggestion.trim() : null;
        clear(empty, `No courses match “${asked.q}”. Try a shorter word or fewer filters.`, suggestion ? [" ", suggestionButton(suggestion)] : null);
      }
    }
    setOpen(document.activeElement === input);
    if (result.facets) onFacets(result.facets);
    onResults(result, asked.q);
  }

  function viaHttp(id) {
    const asked = sent.get(id);
    if (!asked) return;
    const controller = new AbortController();
    controllers.add(controller);
    api(`/api/search${query({ q: asked.q, limit, ...asked.filters })}`, { signal: controller.signal })
      .then((result) => {
        if (sequencer.accept(id)) render({ ...result, via: "http" }, id);
      })
      .catch((error) => {
        if (error.name === "AbortError" || !sequencer.pending(id)) return;
        sequencer.accept(id);
        busy(false);
        hits = [];
        options = [];
        clear(listbox);
        setOpen(false);
        status.textContent = "Search is unavailable right now.";
        if (detail) detail.textContent = error.message;
      })
      .finally(() => controllers.delete(controller));
  }

  function run() {
    const q = input.value.trim();
    clearTimeout(fallbackTimer);
    if (!q) {
      sequencer.invalidate(); // anything in flight is now stale
      for (const controller of controllers) controller.abort();
      controllers.clear();
      hits = [];
      options = [];
      shownQuery = "";
      clear(listbox);
      setOpen(false);
      status.textContent = "";
      if (detail) detail.textContent = "";
      if (empty) empty.hidden = true;
      busy(false);
      onResults(null, "");
      return;
    }
    const id = sequencer.next();
    const filters = searchFilters(getFilters());
    sent.set(id, { q, filters });
    for (const old of sent.keys()) if (old < id - SENT_KEPT) sent.delete(old);
    busy(true);
    const frame = { type: "search", id, q, limit };
    if (Object.keys(filters).length) frame.filters = filters;
    if (socket?.send(frame)) {
      // A socket that accepted the frame but died silently must not leave the box mute.
      fallbackTimer = setTimeout(() => {
        if (sequencer.pending(id)) viaHttp(id);
      }, SOCKET_ANSWER_TIMEOUT);
    } else {
      viaHttp(id);
    }
  }

  const scheduled = throttle(run, interval);

  socket?.on("search.results", (frame) => {
    if (!sequencer.accept(frame.id)) return; // older than what is on screen
    render(frame, frame.id);
  });
  socket?.on("error", (frame) => {
    if (typeof frame.id === "number" && sequencer.pending(frame.id)) viaHttp(frame.id);
  });

  input.addEventListener("input", (event) => {
    dismissed = false;
    if (event.isComposing) return; // an IME is composing: its compositionend follows
    scheduled();
  });
  input.addEventListener("compositionend", () => scheduled());
  input.addEventListener("focus", () => setOpen(true));
  input.addEventListener("blur", () => setOpen(false));
  input.addEventListener("keydown", (event) => {
    if (event.isComposing) return;
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp": {
        event.preventDefault();
        dismissed = false;
        if (!options.length) return;
        if (!isOpen()) setOpen(true);
        const down = event.key === "ArrowDown";
        if (event.altKey) return; // Alt+↓ opens the list without moving
        if (down) setActive(active + 1 >= options.length ? 0 : active + 1);
        else setActive(active <= 0 ? options.length - 1 : active - 1);
        break;
      }
      case "Enter":
        event.preventDefault();
        if (scheduled.pending()) scheduled.flush();
        if (isOpen() && active >= 0) choose(options[active]);
        else if (onSubmit) {
          setOpen(false);
          onSubmit(input.value.trim());
        }
        break;
      case "Escape":
        if (isOpen()) {
          event.preventDefault();
          dismissed = true;
          setOpen(false);
        } else if (input.value) {
          event.preventDefault();
          scheduled.cancel();
          input.value = "";
          run();
        }
        break;
      default:
    }
  });

  return {
    // Filters changed: search again at once (nothing to do while the box is empty).
    refresh: () => {
      scheduled.cancel();
      if (input.value.trim()) run();
    },
    run,
    close: () => {
      dismissed = true;
      setOpen(false);
    },
    get shownQuery() {
      return shownQuery;
    },
  };
}
