import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { throttle } from "../throttle.js";
import { FakeTimers } from "./fakes.mjs";

function setup(interval = 50) {
  const timers = new FakeTimers();
  const calls = [];
  const run = throttle((value) => calls.push([timers.now, value]), interval, { timers, now: () => timers.now });
  return { timers, calls, run };
}

describe("throttle", () => {
  it("runs every call at once when calls are further apart than the interval (normal typing)", () => {
    const { timers, calls, run } = setup(50);
    for (const key of ["p", "py", "pyt", "pyth"]) {
      run(key);
      timers.advance(120);
    }
    assert.deepEqual(calls, [
      [0, "p"],
      [120, "py"],
      [240, "pyt"],
      [360, "pyth"],
    ]);
  });

  it("sends at most one call per interval, the latest arguments last", () => {
    const { timers, calls, run } = setup(50);
    run("a"); // at once
    timers.advance(10);
    run("ab");
    timers.advance(10);
    run("abc"); // replaces "ab"
    assert.equal(run.pending(), true);
    timers.advance(30); // 50 ms after "a"
    assert.deepEqual(calls, [
      [0, "a"],
      [50, "abc"],
    ]);
    assert.equal(run.pending(), false);
  });

  it("cancels and flushes a pending call", () => {
    const { timers, calls, run } = setup(50);
    run("a");
    run("b");
    run.cancel();
    timers.advance(100);
    assert.deepEqual(calls, [[0, "a"]]);
    run("c"); // the interval has passed: at once
    run("d");
    run.flush();
    assert.deepEqual(calls, [
      [0, "a"],
      [100, "c"],
      [100, "d"],
    ]);
    run.flush(); // nothing pending
    assert.equal(calls.length, 3);
  });
});
