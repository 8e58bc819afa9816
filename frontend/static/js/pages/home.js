// Home: the catalog with search as you type, facet filters and the course grid.
//
// With the box empty the grid browses the catalog (GET /api/courses, "Load more"); while a
// query is typed it shows that query's first results, from the same answers as the
// drop-down, with "See all N results" → /search. Enter goes there too. The query, the
// filters and the pages loaded live in the URL (replaced, not pushed), and the scroll
// position in the history entry, so Back and reload come back to the same place.

import { api, query } from "../api.js";
import { boot } from "../app.js";
import { mountCourseGrid, renderCards } from "../catalog.js";
import { mountFacets } from "../facets.js";
import { mountLiveSeats } from "../liveseats.js";
import { mountScrollMemory, replaceUrl } from "../scrollmemory.js";
import { mountSearch } from "../search.js";
import { parseState, resultsLabel, seeAllLabel, stateFilters, stateUrl } from "../searchstate.js";
import { debounce } from "../debounce.js";
import { $, clear, emptyState, h } from "../ui.js";

const GRID_SIZE = 12;

const { socket } = boot();
const memory = mountScrollMemory();

const input = $("#search-input");
const selects = { category: $("#filter-category"), level: $("#filter-level"), price: $("#filter-price") };
const gridElement = $("#course-grid");
mountLiveSeats(socket, gridElement);
const heading = $("#browse-title");
const count = $("#course-count");
const more = $("#load-more");
const seeAll = $("#see-all");
const suggestionLine = $("#grid-suggestion");
const levels = [...selects.level.options].map((option) => option.value).filter(Boolean);
const facets = mountFacets(selects, { levels });

const initial = parseState(location.search, { levels });
let pages = initial.page;
let restored = memory.saved === null; // nothing to restore on a fresh visit

function filters() {
  return { category: selects.category.value, level: selects.level.value, maxPrice: selects.price.value };
}

function state() {
  return { q: input.value.trim(), ...filters(), page: input.value.trim() ? 1 : pages };
}

function writeUrl() {
  writeUrlSoon.cancel();
  const url = stateUrl("/", state());
  if (url !== location.pathname + location.search) replaceUrl(url);
}
const writeUrlSoon = debounce(writeUrl, 300);

function restoreOnce() {
  if (restored) return;
  restored = true;
  memory.restore(memory.saved);
}

const grid = mountCourseGrid({
  grid: gridElement,
  more,
  summary: count,
  message: $("#course-grid-message"),
  pageSize: GRID_SIZE,
  onPages: (n) => {
    pages = n;
    writeUrl();
  },
  onLoaded: restoreOnce,
});

function browse() {
  heading.textContent = "Browse courses";
  seeAll.hidden = true;
  suggestionLine.hidden = true;
  const { category, level, maxPrice } = filters();
  return grid.setFilters({ category, level, max_price: maxPrice }, { pages });
}

// The grid while a query is active: the answer's first hits, and the way to all of them.
function showResults(result, q) {
  grid.suspend();
  const hits = Array.isArray(result.hits) ? result.hits.slice(0, GRID_SIZE) : [];
  const total = typeof result.total === "number" ? result.total : hits.length;
  const estimate = result.total_is_estimate === true;
  heading.textContent = `Results for “${q}”`;
  count.textContent = resultsLabel(total, { estimate });
  renderCards(gridElement, hits, { hit: true });
  const filtered = Object.keys(stateFilters(filters())).length > 0;
  clear(
    $("#course-grid-message"),
    hits.length
      ? null
      : emptyState(
          `No courses match “${q}”${filtered ? " with these filters" : ""}.`,
          "Try a shorter word, another spelling or fewer filters.",
          h(
            "div",
            { class: "empty-actions" },
            filtered ? h("button", { type: "button", class: "button secondary small", onclick: clearFilters }, "Clear filters") : null,
            h("button", { type: "button", class: "button ghost small", onclick: clearQuery }, "Browse all courses"),
          ),
        ),
  );
  const url = stateUrl("/search", { q, ...filters() });
  seeAll.href = url;
  seeAll.textContent = seeAllLabel(total, { estimate });
  seeAll.hidden = total === 0;
  const suggestion = typeof result.suggestion === "string" ? result.suggestion.trim() : "";
  suggestionLine.hidden = !suggestion;
  if (suggestion) {
    clear(suggestionLine, "Did you mean ", h("a", { href: stateUrl("/search", { q: suggestion, ...filters() }) }, suggestion), "?");
  }
  restoreOnce();
}

const search = mountSearch({
  socket,
  input,
  listbox: $("#search-listbox"),
  popup: $("#search-popup"),
  status: $("#search-status"),
  detail: $("#search-detail"),
  // No `empty`: the grid below says "No courses match" with its ways out, once.
  getFilters: filters,
  onFacets: (answer) => facets.apply(answer),
  limit: GRID_SIZE,
  onResults: (result, q) => {
    writeUrlSoon();
    if (result) showResults(result, q);
    else {
      pages = 1;
      browse();
      refreshFacets();
    }
  },
  onSubmit: (q) => {
    writeUrl(); // Back from the results page finds the home page as it was left
    location.assign(stateUrl("/search", { q, ...filters() }));
  },
});

// The facets of the catalog as filtered, while nothing is typed.
let facetAsk = 0;
function refreshFacets() {
  const mine = ++facetAsk;
  const params = { q: "", limit: 1, ...stateFilters(filters()) };
  api(`/api/search${query(params)}`)
    .then((answer) => {
      if (mine === facetAsk && !input.value.trim()) facets.apply(answer.facets);
    })
    .catch(() => {
      /* the selects keep their options; the next answer fills them */
    });
}

function filtersChanged() {
  pages = 1;
  writeUrl();
  if (input.value.trim()) search.refresh();
  else {
    browse();
    refreshFacets();
  }
}

for (const select of Object.values(selects)) select.addEventListener("change", filtersChanged);

function clearFilters() {
  for (const select of Object.values(selects)) select.value = "";
  filtersChanged();
}

function clearQuery() {
  input.value = "";
  search.run();
  input.focus();
}

$("#clear-filters").addEventListener("click", clearFilters);

// Every category the catalog has (an empty query's facets), so a search without results
// never leaves the selects empty.
api("/api/search?q=&limit=1")
  .then((answer) => {
    facets.remember(answer.facets);
    if (!input.value.trim() && !Object.keys(stateFilters(filters())).length) facets.apply(answer.facets);
    else if (!input.value.trim()) refreshFacets();
  })
  .catch(() => {
    /* the selects keep their defaults; typing fills them */
  });

if (input.value.trim()) {
  search.run(); // a query from the URL (Back, reload): its results in the grid
} else {
  browse();
}
