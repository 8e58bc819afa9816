// Facet selects (category, level) rebuilt from a search answer's `facets`: every value the
// catalog has stays listed (at 0 when the answer has none of it), and so does the current
// choice, so a search without results never empties the selects and "Clear filters"
// always has something to go back to. The price select has fixed steps (max_price).

import { h, levelLabel } from "./ui.js";

// [{value, count, text}]: the known values first, in their order, then any other value of
// the answer, then the selected value if it is still missing; counts from the answer.
export function facetOptions(counts = {}, selected = "", label = (value) => value, known = []) {
  const values = [];
  const seen = new Set();
  const add = (value) => {
    if (value === "" || value === null || value === undefined || seen.has(value)) return;
    seen.add(value);
    values.push(value);
  };
  for (const value of known) add(value);
  for (const value of Object.keys(counts ?? {})) add(value);
  add(selected);
  return values.map((value) => {
    const count = Number(counts?.[value] ?? 0);
    return { value, count, text: `${label(value)} (${count})` };
  });
}

export function fillSelect(select, options, allLabel) {
  const fill = () => {
    const current = select.value;
    select.replaceChildren(h("option", { value: "" }, allLabel), ...options.map((o) => h("option", { value: o.value }, o.text)));
    select.value = options.some((o) => o.value === current) ? current : "";
  };
  // Not from under the user: a select in use is refilled once it loses focus.
  if (document.activeElement === select) {
    select.pendingFill = fill;
    if (!select.dataset.refillOnBlur) {
      select.dataset.refillOnBlur = "true";
      select.addEventListener("blur", () => {
        const pending = select.pendingFill;
        select.pendingFill = null;
        pending?.();
      });
    }
    return;
  }
  select.pendingFill = null;
  fill();
}

// The facet selects of a page. `known` values come from the catalog (the levels from the
// page, the categories from an empty query's facets) and grow with every answer seen.
export function mountFacets({ category, level }, { levels = [] } = {}) {
  const known = { category: [], level: [...levels] };
  const remember = (facets = {}) => {
    for (const name of ["category", "level"]) {
      for (const value of Object.keys(facets?.[name] ?? {})) {
        if (!known[name].includes(value)) known[name].push(value);
      }
    }
  };
  const apply = (facets) => {
    if (!facets || typeof facets !== "object") return;
    remember(facets);
    if (category) fillSelect(category, facetOptions(facets.category ?? {}, category.value, undefined, known.category), "All categories");
    if (level) fillSelect(level, facetOptions(facets.level ?? {}, level.value, levelLabel, known.level), "All levels");
  };
  return { apply, remember, known };
}

