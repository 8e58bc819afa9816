// Facet selects (category, level) rebuilt from a search answer's `facets`, keeping the
// current choice; the price select has fixed steps (the API filters on max_price).

import { h, levelLabel } from "./ui.js";

export function facetOptions(counts = {}, selected = "", label = (value) => value) {
  const options = Object.entries(counts).map(([value, count]) => ({ value, text: `${label(value)} (${count})` }));
  if (selected && !(selected in counts)) options.push({ value: selected, text: `${label(selected)} (0)` });
  return options;
}

export function fillSelect(select, options, allLabel) {
  if (document.activeElement === select) return; // do not pull the list from under the user
  const current = select.value;
  select.replaceChildren(h("option", { value: "" }, allLabel), ...options.map((o) => h("option", { value: o.value }, o.text)));
  select.value = options.some((o) => o.value === current) ? current : "";
}

export function applyFacets({ category, level }, facets = {}) {
  if (category && facets.category) fillSelect(category, facetOptions(facets.category, category.value), "All categories");
  if (level && facets.level) fillSelect(level, facetOptions(facets.level, level.value, levelLabel), "All levels");
}
