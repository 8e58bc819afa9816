import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { resultsLabel, SearchSequencer, searchFilters } from "../search.js";

describe("search sequencing", () => {
  it("renders answers newer than the one shown, in any order, each id once", () => {
    const sequencer = new SearchSequencer();
    const first = sequencer.next();
    const second = sequencer.next();
    const third = sequencer.next();
    assert.deepEqual([first, second, third], [1, 2, 3]);
    // While typing, an answer to an earlier keystroke still shows (results follow typing)…
    assert.equal(sequencer.accept(second), true);
    assert.equal(sequencer.pending(third), true);
    // …but never one older than what is on screen.
    assert.equal(sequencer.accept(first), false);
    assert.equal(sequencer.accept(third), true);
    assert.equal(sequencer.accept(third), false); // the HTTP fallback's copy
    assert.equal(sequencer.pending(third), false);
    assert.equal(sequencer.accept("3"), false);
    assert.equal(sequencer.accept(99), false); // never asked
  });

  it("drops every answer in flight once the box is cleared", () => {
    const sequencer = new SearchSequencer();
    const asked = [sequencer.next(), sequencer.next()];
    sequencer.invalidate();
    for (const id of asked) assert.equal(sequencer.accept(id), false);
    const next = sequencer.next();
    assert.equal(sequencer.pending(next), true);
    assert.equal(sequencer.accept(next), true);
  });

  it("labels the result count and builds the filters the server accepts", () => {
    assert.equal(resultsLabel(0), "No results");
    assert.equal(resultsLabel(1), "1 result");
    assert.equal(resultsLabel(12), "12 results");
    assert.deepEqual(searchFilters({ category: "", level: "beginner", maxPrice: "0" }), { level: "beginner", max_price: "0" });
    assert.deepEqual(searchFilters({}), {});
  });
});
