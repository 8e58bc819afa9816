import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { resultsLabel, SearchSequencer, searchFilters } from "../search.js";

describe("search sequencing", () => {
  it("accepts only the newest query's answer, once", () => {
    const sequencer = new SearchSequencer();
    const first = sequencer.next();
    const second = sequencer.next();
    const third = sequencer.next();
    assert.deepEqual([first, second, third], [1, 2, 3]);
    assert.equal(sequencer.accept(second), false); // superseded
    assert.equal(sequencer.pending(third), true);
    assert.equal(sequencer.accept(third), true);
    assert.equal(sequencer.accept(third), false); // the HTTP fallback's copy
    assert.equal(sequencer.accept(first), false);
    assert.equal(sequencer.pending(third), false);
    assert.equal(sequencer.accept("3"), false);
  });

  it("labels the result count and builds the filters the server accepts", () => {
    assert.equal(resultsLabel(0), "No results");
    assert.equal(resultsLabel(1), "1 result");
    assert.equal(resultsLabel(12), "12 results");
    assert.deepEqual(searchFilters({ category: "", level: "beginner", maxPrice: "0" }), { level: "beginner", max_price: "0" });
    assert.deepEqual(searchFilters({}), {});
  });
});
