import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  apiParams,
  DEFAULT_SORT,
  EMPTY_STATE,
  maxPage,
  PAGE_SIZE,
  pageChunks,
  parseState,
  resultsLabel,
  sameSearch,
  searchTitle,
  seeAllLabel,
  stateQuery,
  stateUrl,
} from "../searchstate.js";

describe("search state ↔ URL", () => {
  it("reads every field of a results page's URL", () => {
    const state = parseState("?q=machine+learn&category=Data%20Science&level=beginner&max_price=50&sort=rating&page=3");
    assert.deepEqual(state, { q: "machine learn", category: "Data Science", level: "beginner", maxPrice: "50", sort: "rating", page: 3 });
  });

  it("writes one canonical URL per state, defaults left out, and reads it back", () => {
    const state = { q: "machine learn", category: "Data Science", level: "beginner", maxPrice: "0", sort: "-price", page: 2 };
    const text = stateQuery(state);
    assert.equal(text, "q=machine+learn&category=Data+Science&level=beginner&max_price=0&sort=-price&page=2");
    assert.deepEqual(parseState(text), state);
    assert.equal(stateUrl("/search", { q: "machine learn" }), "/search?q=machine+learn");
    assert.equal(stateUrl("/search", EMPTY_STATE), "/search");
    assert.equal(stateUrl("/search", { ...EMPTY_STATE, sort: DEFAULT_SORT, page: 1 }), "/search");
    assert.equal(stateQuery(state, { withPage: false, withSort: false }), "q=machine+learn&category=Data+Science&level=beginner&max_price=0");
  });

  it("round-trips awkward text: symbols, plus signs, ampersands, unicode", () => {
    const state = { ...EMPTY_STATE, q: "C++ & Rust: 100% “fast”", category: "Art & Design" };
    assert.deepEqual(parseState(stateQuery(state)), state);
    assert.deepEqual(parseState(new URLSearchParams(stateQuery(state))), state);
  });

  it("ignores unknown and malformed parameters instead of failing", () => {
    const levels = ["beginner", "intermediate", "advanced"];
    const state = parseState("?q=%20%20python%00%20&sort=cheapest&page=-2&max_price=abc&level=guru&utm_source=x&page=", { levels });
    assert.deepEqual(state, { ...EMPTY_STATE, q: "python" });
    assert.equal(parseState("?page=0").page, 1);
    assert.equal(parseState("?page=2.5").page, 1);
    assert.equal(parseState("?page=99999").page, 1);
    assert.equal(parseState("?page=9999").page, maxPage()); // the API's deepest offset
    assert.equal(parseState("?max_price=25.50").maxPrice, "25.50");
    assert.equal(parseState("?max_price=025.00").maxPrice, "25");
    assert.equal(parseState("?max_price=1e3").maxPrice, "");
    assert.equal(parseState("?max_price=-5").maxPrice, "");
    assert.equal(parseState(`?q=${"x".repeat(500)}`).q.length, 200);
    assert.equal(parseState("?category=" + "c".repeat(100)).category.length, 80);
    assert.deepEqual(parseState(""), EMPTY_STATE);
    assert.deepEqual(parseState(null), EMPTY_STATE);
  });

  it("checks the level and the sort against what the page offers", () => {
    assert.equal(parseState("?level=beginner", { levels: ["beginner", "advanced"] }).level, "beginner");
    assert.equal(parseState("?level=expert", { levels: ["beginner", "advanced"] }).level, "");
    assert.equal(parseState("?sort=rating", { sorts: ["relevance", "newest"] }).sort, DEFAULT_SORT);
    for (const sort of ["relevance", "popular", "rating", "price", "-price", "newest"]) assert.equal(parseState(`?sort=${encodeURIComponent(sort)}`).sort, sort);
  });

  it("tells whether two states are the same search, whatever the pages loaded", () => {
    assert.equal(sameSearch({ ...EMPTY_STATE, q: "go", page: 1 }, { ...EMPTY_STATE, q: "go", page: 4 }), true);
    assert.equal(sameSearch({ ...EMPTY_STATE, q: "go" }, { ...EMPTY_STATE, q: "go", sort: "rating" }), false);
  });
});

describe("search state → API", () => {
  it("spells the filters and sort as GET /api/search takes them, the default sort left out", () => {
    const state = { q: "go", category: "Programming", level: "", maxPrice: "0", sort: "rating", page: 2 };
    assert.deepEqual(apiParams(state, { offset: 24, limit: 24 }), { q: "go", category: "Programming", max_price: "0", sort: "rating", limit: 24, offset: 24 });
    assert.deepEqual(apiParams({ ...EMPTY_STATE }), { q: "", limit: PAGE_SIZE, offset: 0 });
  });

  it("brings pages 1..n back in as few requests as the API's limit and offset allow", () => {
    assert.deepEqual(pageChunks(1), [{ offset: 0, limit: 24 }]);
    assert.deepEqual(pageChunks(3), [
      { offset: 0, limit: 50 },
      { offset: 50, limit: 22 },
    ]);
    const deepest = pageChunks(maxPage());
    assert.ok(deepest.every((chunk) => chunk.limit <= 50 && chunk.limit > 0 && chunk.offset <= 1000));
    assert.equal(deepest.at(-1).offset + deepest.at(-1).limit, maxPage() * PAGE_SIZE);
    assert.deepEqual(pageChunks(2, { pageSize: 10 }), [{ offset: 0, limit: 20 }]);
  });
});

describe("search labels", () => {
  it("counts results, and says 'about' when the server estimated", () => {
    assert.equal(resultsLabel(0), "No results");
    assert.equal(resultsLabel(1), "1 result");
    assert.equal(resultsLabel(1234), "1,234 results");
    assert.equal(resultsLabel(10000, { estimate: true }), "about 10,000 results");
    assert.equal(seeAllLabel(12), "See all 12 results");
    assert.equal(seeAllLabel(1), "See 1 result");
    assert.equal(seeAllLabel(10000, { estimate: true }), "See about 10,000 results");
    assert.equal(searchTitle({ q: "rust" }), "Search: rust · Learning Portal");
    assert.equal(searchTitle({ q: "" }), "Search courses · Learning Portal");
  });
});
