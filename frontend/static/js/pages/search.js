// /search: every result of a query, PAGE_SIZE at a time, with the filters and the sort.
//
// The URL is the state (searchstate.js): a new query, filter or sort is a new history
// entry (pushState), "Load more" only raises `page` in the current one (replaceState), and
// the scroll position is kept in the entry (scrollmemory.js). Opening a course and coming
// Back therefore loads the same pages again and returns to the same place; so does a
// reload or a shared link (without the scroll position).

import { api, query } from "../api.js";
import { boot } from "../app.js";
import { focusFirst, renderCards, skeletonItems } from "../catalog.js";
import { mountFacets } from "../facets.js";
import { mountLiveSeats } from "../liveseats.js";
import { historyScroll, mountScrollMemory, replaceUrl } from "../scrollmemory.js";
import { mountSearch } from "../search.js";
import { apiParams, maxPage, PAGE_SIZE, pageChunks, parseState, resultsLabel, searchTitle, stateUrl } from "../searchstate.js";
import { $, clear, emptyState, errorState, h } from "../ui.js";

const { socket } = boot();
const memory = mountScrollMemory();

const form = $("#search-form");
const input = $("#search-input");
const selects = { category: $("#filter-category"), level: $("#filter-level"), price: $("#filter-price"), sort: $("#filter-sort") };
const list = $("#results");
mountLiveSeats(socket, list);
const title = $("#results-title");
const status = $("#results-status");
const suggestionLine = $("#results-suggestion");
const message = $("#results-message");
const more = $("#results-more");
const end = $("#results-end");
const valuesOf = (select) => [...select.options].map((option) => option.value).filter(Boolean);
const levels = valuesOf(selects.level);
const sorts = valuesOf(selects.sort);
const facets = mountFacets(selects, { levels });
const parse = (search) => parseState(search, { levels, sorts });
$("#apply-filters").hidden = true; // filters apply as they change

let state = parse(location.search);
let hits = [];
let total = 0;
let generation = 0;
let lastFacets = null;

// --- the form shows a state ---------------------------------------------------------------

function ensureOption(select, value, label = value) {
  if (value && ![...select.options].some((option) => option.value === value)) {
    select.append(h("option", { value }, label));
  }
  select.value = value;
}

function showControls(next) {
  input.value = next.q;
  ensureOption(selects.category, next.category);
  selects.level.value = next.level;
  ensureOption(selects.price, next.maxPrice, next.maxPrice === "0" ? "Free" : `Up to $${next.maxPrice}`);
  selects.sort.value = next.sort;
}

function fromControls() {
  return {
    q: input.value.trim(),
    category: selects.category.value,
    level: selects.level.value,
    maxPrice: selects.price.value,
    sort: selects.sort.value,
    page: 1,
  };
}

function showHeading(next) {
  title.textContent = next.q ? `Results for “${next.q}”` : "All courses";
  document.title = searchTitle(next);
}

// --- loading --------------------------------------------------------------------------

const fetchSlice = (slice) => api(`/api/search${query(apiParams(state, slice))}`);

function filtersActive(current) {
  return Boolean(current.category || current.level || current.maxPrice);
}

function showStatus(answer) {
  const estimate = answer.total_is_estimate === true;
  status.textContent = resultsLabel(total, { estimate }) + (state.q ? ` for “${state.q}”` : "");
  const suggestion = typeof answer.suggestion === "string" ? answer.suggestion.trim() : "";
  suggestionLine.hidden = !suggestion;
  if (suggestion) {
    const next = { ...state, q: suggestion, page: 1 };
    const link = h("a", { href: stateUrl("/search", next) }, suggestion);
    link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      navigate(next);
    });
    clear(suggestionLine, "Did you mean ", link, "?");
  }
}

function showEnd() {
  const everything = hits.length >= total;
  const full = hits.length === state.page * PAGE_SIZE;
  const room = state.page < maxPage();
  more.hidden = everything || !full || !room;
  end.hidden = everything || (full && room);
  end.textContent = end.hidden ? "" : `Showing the first ${hits.length} results. Add a word or a filter to narrow them down.`;
}

function showEmpty() {
  const clearButton = filtersActive(state)
    ? h("button", { type: "button", class: "button secondary small", onclick: () => clearFilters() }, "Clear filters")
    : null;
  const what = state.q ? `No courses match “${state.q}”` : "No courses match";
  clear(message, emptyState(`${what}${filtersActive(state) ? " with these filters" : ""}.`, "Try fewer or shorter words, another spelling, or fewer filters.", clearButton));
}

async function load(next, { scrollY = null } = {}) {
  state = next;
  const mine = ++generation;
  showHeading(state);
  list.setAttribute("aria-busy", "true");
  if (!hits.length) clear(list, skeletonItems(PAGE_SIZE));
  clear(message);
  more.hidden = true;
  end.hidden = true;
  try {
    const answers = await Promise.all(pageChunks(state.page).map(fetchSlice));
    if (mine !== generation) return;
    const first = answers[0];
    hits = answers.flatMap((answer) => (Array.isArray(answer.hits) ? answer.hits : []));
    total = typeof first.total === "number" ? first.total : hits.length;
    renderCards(list, hits, { hit: true, heading: "h2" });
    // A URL may ask for more pages than there are: it says what is shown.
    const shown = Math.max(1, Math.ceil(hits.length / PAGE_SIZE));
    if (shown < state.page) {
      state = { ...state, page: shown };
      replaceUrl(stateUrl("/search", state));
    }
    showStatus(first);
    if (!hits.length) showEmpty();
    showEnd();
    lastFacets = first.facets ?? null;
    facets.apply(lastFacets);
    if (scrollY !== null) memory.restore(scrollY);
  } catch (error) {
    if (mine !== generation) return;
    hits = [];
    clear(list);
    status.textContent = "";
    suggestionLine.hidden = true;
    clear(message, errorState(`Search is unavailable right now: ${error.message}`, () => load(state)));
  } finally {
    if (mine === generation) list.setAttribute("aria-busy", "false");
  }
}

async function loadMore() {
  const mine = generation;
  const page = state.page + 1;
  more.disabled = true;
  list.setAttribute("aria-busy", "true");
  try {
    const answer = await fetchSlice({ offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE });
    if (mine !== generation) return;
    const added = Array.isArray(answer.hits) ? answer.hits : [];
    hits = hits.concat(added);
    if (typeof answer.total === "number") total = answer.total;
    const items = renderCards(list, added, { hit: true, append: true, heading: "h2" });
    state = { ...state, page };
    replaceUrl(stateUrl("/search", state));
    showEnd();
    focusFirst(items);
  } catch (error) {
    if (mine !== generation) return;
    clear(message, errorState(`More results could not be loaded: ${error.message}`, () => loadMore()));
  } finally {
    more.disabled = false;
    if (mine === generation) list.setAttribute("aria-busy", "false");
  }
}

// A new search (query, filter or sort): a new history entry, from the first page.
function navigate(next) {
  const target = { ...next, page: 1 };
  memory.save();
  history.pushState({}, "", stateUrl("/search", target));
  showControls(target);
  hits = [];
  load(target);
}

function clearFilters() {
  navigate({ ...fromControls(), category: "", level: "", maxPrice: "" });
}

// --- wiring ---------------------------------------------------------------------------

const search = mountSearch({
  socket,
  input,
  listbox: $("#search-listbox"),
  popup: $("#search-popup"),
  status: $("#search-status"),
  detail: $("#search-detail"),
  // No "no courses match" line under the box: the results below say it.
  getFilters: () => fromControls(),
  onSubmit: (q) => {
    search.close();
    navigate({ ...fromControls(), q });
  },
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  navigate(fromControls());
});
for (const select of Object.values(selects)) {
  select.addEventListener("change", () => navigate(fromControls()));
}
$("#clear-filters").addEventListener("click", clearFilters);
more.addEventListener("click", () => loadMore());

window.addEventListener("popstate", (event) => {
  const next = parse(location.search);
  showControls(next);
  hits = [];
  load(next, { scrollY: historyScroll(event.state) ?? 0 });
});

// Every category the catalog has, so the select lists them all (at 0 where this search
// has none) whatever the answer's facets say.
api("/api/search?q=&limit=1")
  .then((answer) => {
    facets.remember(answer.facets);
    if (lastFacets) facets.apply(lastFacets);
  })
  .catch(() => {
    /* the select keeps what the answers list */
  });

// The canonical spelling of the URL (defaults dropped, values checked).
replaceUrl(stateUrl("/search", state));
showControls(state);
load(state, { scrollY: memory.saved });
