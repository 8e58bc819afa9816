// Home: the catalog with search as you type, facet filters and the course grid.

import { api } from "../api.js";
import { boot } from "../app.js";
import { mountCourseGrid } from "../catalog.js";
import { applyFacets } from "../facets.js";
import { mountSearch } from "../search.js";
import { $ } from "../ui.js";

const { socket } = boot();

const selects = { category: $("#filter-category"), level: $("#filter-level"), price: $("#filter-price") };
const currentFilters = () => ({
  category: selects.category.value,
  level: selects.level.value,
  maxPrice: selects.price.value,
});

const search = mountSearch({
  socket,
  input: $("#search-input"),
  listbox: $("#search-listbox"),
  popup: $("#search-popup"),
  status: $("#search-status"),
  detail: $("#search-detail"),
  empty: $("#search-empty"),
  getFilters: currentFilters,
  onFacets: (facets) => applyFacets(selects, facets),
});

const grid = mountCourseGrid({ grid: $("#course-grid"), more: $("#load-more"), summary: $("#course-count") });

function gridFilters() {
  const { category, level, maxPrice } = currentFilters();
  return { category, level, max_price: maxPrice };
}

for (const select of Object.values(selects)) {
  select.addEventListener("change", () => {
    search.refresh();
    grid.setFilters(gridFilters());
  });
}

$("#clear-filters").addEventListener("click", () => {
  for (const select of Object.values(selects)) select.value = "";
  search.refresh();
  grid.setFilters(gridFilters());
});

grid.setFilters(gridFilters());

// The facet choices before anything is typed: an empty query's facets.
api("/api/search?q=&limit=1")
  .then((result) => applyFacets(selects, result.facets))
  .catch(() => {
    /* the selects keep their defaults; typing fills them */
  });
