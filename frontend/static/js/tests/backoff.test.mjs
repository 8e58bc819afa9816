import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { backoffCeiling, backoffDelay } from "../backoff.js";

describe("backoff", () => {
  it("doubles from the base and stops at the cap", () => {
    const options = { base: 500, cap: 15_000 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 50, 5000].map((n) => backoffCeiling(n, options)),
      [500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000, 15_000],
    );
    assert.equal(backoffCeiling(-3, options), 500);
  });

  it("jitters within [ceiling/2, ceiling] for every attempt", () => {
    for (let attempt = 0; attempt < 40; attempt += 1) {
      const ceiling = backoffCeiling(attempt);
      assert.equal(backoffDelay(attempt, { random: () => 0 }), ceiling / 2);
      assert.equal(backoffDelay(attempt, { random: () => 1 }), ceiling);
      for (let i = 0; i < 50; i += 1) {
        const delay = backoffDelay(attempt);
        assert.ok(delay >= ceiling / 2 && delay <= ceiling, `${delay} outside [${ceiling / 2}, ${ceiling}]`);
      }
    }
  });

  it("spreads reconnecting clients out (not all at the same instant)", () => {
    const delays = new Set(Array.from({ length: 200 }, () => backoffDelay(3)));
    assert.ok(delays.size > 50);
  });

  it("clamps a misbehaving random source", () => {
    assert.equal(backoffDelay(0, { base: 1000, cap: 1000, random: () => 7 }), 1000);
    assert.equal(backoffDelay(0, { base: 1000, cap: 1000, random: () => -1 }), 500);
  });
});
