import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { debounce } from "../debounce.js";
import { FakeTimers } from "./fakes.mjs";

describe("debounce", () => {
  it("runs once, wait ms after the last call, with the last arguments", () => {
    const timers = new FakeTimers();
    const calls = [];
    const debounced = debounce((...args) => calls.push(args), 150, { timers });
    debounced("p");
    timers.advance(100);
    debounced("py");
    timers.advance(100);
    debounced("pyt");
    timers.advance(149);
    assert.deepEqual(calls, []);
    timers.advance(1);
    assert.deepEqual(calls, [["pyt"]]);
    timers.advance(1000);
    assert.equal(calls.length, 1);
  });

  it("cancel drops the pending call and flush runs it at once", () => {
    const timers = new FakeTimers();
    const calls = [];
    const debounced = debounce((value) => calls.push(value), 150, { timers });
    debounced("a");
    assert.equal(debounced.pending(), true);
    debounced.cancel();
    assert.equal(debounced.pending(), false);
    timers.advance(500);
    assert.deepEqual(calls, []);
    debounced("b");
    debounced.flush();
    assert.deepEqual(calls, ["b"]);
    timers.advance(500);
    assert.deepEqual(calls, ["b"]);
    debounced.flush(); // nothing pending: no call
    assert.deepEqual(calls, ["b"]);
  });

  it("works with the real timers", async () => {
    const calls = [];
    const debounced = debounce((value) => calls.push(value), 10);
    debounced(1);
    debounced(2);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.deepEqual(calls, [2]);
  });
});
