// What a search is, as a plain object, and its two spellings: the page's URL
// (/search?q=…&category=…&level=…&max_price=…&sort=…&page=…) and the API's parameters.
// Pure: no DOM, no fetch (the Node tests import it).
//
// `page` in a URL means "pages 1..page are loaded", so a reload or Back shows everything
// that was on the screen.

// GET /api/search's `sort` values (catalog.shapes.SearchSort). The results page renders
// its select from that enum and passes the select's values to parseState; this list
// serves the pages without one and the tests.
export const SORT_VALUES = Object.freeze(["relevance", "popular", "rating", "price", "-price", "newest"]);
export const DEFAULT_SORT = "relevance";

// The API's bounds (catalog/search/types.py MAX_LIMIT, MAX_OFFSET; q at most 200).
export const MAX_LIMIT = 50;
export const MAX_OFFSET = 1000;
export const MAX_QUERY = 200;
export const PAGE_SIZE = 24;
export const maxPage = (pageSize = PAGE_SIZE) => Math.floor(MAX_OFFSET / pageSize) + 1;

const PRICE = /^\d{1,8}(\.\d{1,2})?$/;
const PAGE = /^\d{1,4}$/;

export const EMPTY_STATE = Object.freeze({ q: "", category: "", level: "", maxPrice: "", sort: DEFAULT_SORT, page: 1 });

// URL parameters (a string, URLSearchParams or a plain object) → a state whose every field
// is valid; anything unknown or malformed falls back to its default. `levels`, when
// given, lists the levels the API accepts (another would answer 400); `sorts` the sort
// options (a page passes its select's).
export function parseState(source, { levels = null, sorts = SORT_VALUES, pageSize = PAGE_SIZE } = {}) {
  const params = source instanceof URLSearchParams ? source : new URLSearchParams(source ?? "");
  const text = (name, max) => {
    const value = (params.get(name) ?? "").replace(/[\x00-\x1f\x7f]/g, " ").trim();
    return value.length > max ? value.slice(0, max).trim() : value;
  };
  const state = { ...EMPTY_STATE };
  state.q = text("q", MAX_QUERY);
  state.category = text("category", 80);
  const level = text("level", 40);
  state.level = level && (!levels || levels.includes(level)) ? level : "";
  const price = text("max_price", 20);
  state.maxPrice = PRICE.test(price) ? normalisePrice(price) : "";
  const sort = text("sort", 20);
  state.sort = sorts.includes(sort) ? sort : DEFAULT_SORT;
  const page = text("page", 10);
  state.page = PAGE.test(page) ? Math.min(Math.max(1, Number(page)), maxPage(pageSize)) : 1;
  return state;
}

function normalisePrice(text) {
  const [whole, cents] = text.split(".");
  const trimmed = whole.replace(/^0+(?=\d)/, "");
  return cents === undefined || /^0+$/.test(cents) ? trimmed : `${trimmed}.${cents}`;
}

// The state as a query string (no "?"), defaults left out, always in the same order:
// one state, one URL.
export function stateQuery(state, { withPage = true, withSort = true } = {}) {
  const params = new URLSearchParams();
  const s = { ...EMPTY_STATE, ...state };
  if (s.q) params.set("q", s.q);
  if (s.category) params.set("category", s.category);
  if (s.level) params.set("level", s.level);
  if (s.maxPrice !== "" && s.maxPrice !== null && s.maxPrice !== undefined) params.set("max_price", String(s.maxPrice));
  if (withSort && s.sort && s.sort !== DEFAULT_SORT) params.set("sort", s.sort);
  if (withPage && Number(s.page) > 1) params.set("page", String(s.page));
  return params.toString();
}

export function stateUrl(path, state, options) {
  const text = stateQuery(state, options);
  return text ? `${path}?${text}` : path;
}

// The filters of a state as the API and the socket's `search` frame name them.
export function stateFilters(state) {
  const filters = {};
  if (state.category) filters.category = state.category;
  if (state.level) filters.level = state.level;
  if (state.maxPrice !== "" && state.maxPrice !== null && state.maxPrice !== undefined) filters.max_price = String(state.maxPrice);
  return filters;
}

// GET /api/search parameters for one slice of a state's results. The default sort is
// not sent (a server without sorting answers by relevance anyway).
export function apiParams(state, { offset = 0, limit = PAGE_SIZE } = {}) {
  const params = { q: state.q ?? "", ...stateFilters(state), limit, offset };
  if (state.sort && state.sort !== DEFAULT_SORT) params.sort = state.sort;
  return params;
}

// Two states show the same results (whatever number of pages is loaded).
export function sameSearch(a, b) {
  return stateQuery(a, { withPage: false }) === stateQuery(b, { withPage: false });
}

// The requests that bring pages 1..pages back in as few calls as the API allows
// (at most MAX_LIMIT hits each, no offset beyond MAX_OFFSET).
export function pageChunks(pages, { pageSize = PAGE_SIZE, maxLimit = MAX_LIMIT, maxOffset = MAX_OFFSET } = {}) {
  const wanted = Math.max(1, Math.floor(pages)) * pageSize;
  const chunks = [];
  for (let offset = 0; offset < wanted && offset <= maxOffset; offset += maxLimit) {
    chunks.push({ offset, limit: Math.min(maxLimit, wanted - offset) });
  }
  return chunks;
}

const COUNT = new Intl.NumberFormat("en");

// "No results", "1 result", "1,234 results", or "about 10,000 results" when the
// server counted only up to a cap (`total_is_estimate`).
export function resultsLabel(total, { estimate = false } = {}) {
  const n = Number(total) || 0;
  if (n <= 0) return "No results";
  const text = `${COUNT.format(n)} result${n === 1 ? "" : "s"}`;
  return estimate ? `about ${text}` : text;
}

// The drop-down's way to the results page: "See all 12 results", "See about 10,000
// results" (an estimate), "See 1 result".
export function seeAllLabel(total, { estimate = false } = {}) {
  const n = Number(total) || 0;
  if (estimate) return `See about ${COUNT.format(n)} results`;
  return n === 1 ? "See 1 result" : `See all ${COUNT.format(n)} results`;
}

// The page's title for a state.
export function searchTitle(state, site = "Learning Portal") {
  return state.q ? `Search: ${state.q} · ${site}` : `Search courses · ${site}`;
}
