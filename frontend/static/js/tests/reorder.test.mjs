import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ApiError } from "../api.js";
import { dropTarget, keyTarget, moveAnnouncement, moveItem, positionOf, ReorderList } from "../reorder.js";

const titles = (items) => items.map((item) => item.title);
const LESSONS = [{ title: "A" }, { title: "B" }, { title: "C" }, { title: "D" }];

describe("reorder helpers", () => {
  it("moves an item and leaves the input alone", () => {
    assert.deepEqual(titles(moveItem(LESSONS, 0, 2)), ["B", "C", "A", "D"]);
    assert.deepEqual(titles(moveItem(LESSONS, 3, 0)), ["D", "A", "B", "C"]);
    assert.deepEqual(titles(LESSONS), ["A", "B", "C", "D"]);
  });

  it("maps keys to moves, and refuses moves past the ends", () => {
    assert.equal(keyTarget("ArrowUp", 2, 4), 1);
    assert.equal(keyTarget("ArrowDown", 2, 4), 3);
    assert.equal(keyTarget("Home", 2, 4), 0);
    assert.equal(keyTarget("End", 1, 4), 3);
    assert.equal(keyTarget("ArrowUp", 0, 4), null);
    assert.equal(keyTarget("ArrowDown", 3, 4), null);
    assert.equal(keyTarget("Home", 0, 4), null);
    assert.equal(keyTarget("Enter", 1, 4), null);
  });

  it("computes where a dropped item lands", () => {
    // A (0) dropped in C's lower half: after C → index 2 once A left.
    assert.equal(dropTarget(0, 2, true), 2);
    assert.deepEqual(titles(moveItem(LESSONS, 0, dropTarget(0, 2, true))), ["B", "C", "A", "D"]);
    // A dropped in C's upper half: between B and C.
    assert.deepEqual(titles(moveItem(LESSONS, 0, dropTarget(0, 2, false))), ["B", "A", "C", "D"]);
    // D (3) dropped in A's upper half: first.
    assert.deepEqual(titles(moveItem(LESSONS, 3, dropTarget(3, 0, false))), ["D", "A", "B", "C"]);
    // D dropped in B's lower half: between B and C.
    assert.deepEqual(titles(moveItem(LESSONS, 3, dropTarget(3, 1, true))), ["A", "B", "D", "C"]);
    // On itself: no move.
    assert.equal(dropTarget(1, 1, true), 1);
    assert.equal(dropTarget(1, 1, false), 1);
  });

  it("announces 1-based positions", () => {
    assert.equal(moveAnnouncement("Variables", 1, 4), "Moved Variables to position 2 of 4");
    assert.equal(positionOf(0), 1);
  });
});

describe("ReorderList", () => {
  it("moves at once, announces, and saves the 1-based position", async () => {
    const saved = [];
    const said = [];
    const renders = [];
    const list = new ReorderList({
      items: LESSONS,
      persist: async (item, position) => saved.push([item.title, position]),
      render: (items, moved) => renders.push([titles(items), moved.title]),
      announce: (text) => said.push(text),
    });
    assert.equal(await list.move(2, 1), true);
    assert.deepEqual(titles(list.items), ["A", "C", "B", "D"]);
    assert.deepEqual(saved, [["C", 2]]);
    assert.deepEqual(said, ["Moved C to position 2 of 4"]);
    assert.deepEqual(renders, [[["A", "C", "B", "D"], "C"]]);
    assert.equal(await list.move(0, -1), false);
    assert.equal(await list.move(3, 4), false);
    assert.equal(saved.length, 1);
  });

  it("puts the item back and says so when the save is refused", async () => {
    const said = [];
    const list = new ReorderList({
      items: LESSONS,
      persist: async () => {
        throw new ApiError(0, { code: "network", message: "Could not reach the server." });
      },
      announce: (text) => said.push(text),
    });
    await assert.rejects(list.move(0, 3), /Could not reach/);
    assert.deepEqual(titles(list.items), ["A", "B", "C", "D"]);
    assert.equal(said[0], "Moved A to position 4 of 4");
    assert.equal(said[1], "Could not move A: Could not reach the server. It is back at position 1.");
  });
});
