import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { applySeats, SeatWatches } from "../liveseats.js";

function recordingSocket() {
  const calls = [];
  return { calls, watch: (slug) => calls.push(["watch", slug]), unwatch: (slug) => calls.push(["unwatch", slug]) };
}

describe("live seats on cards", () => {
  it("watches the cards on screen, once each, and unwatches those that leave", () => {
    const socket = recordingSocket();
    const watches = new SeatWatches(socket, { max: 3 });
    watches.show(["a", "b", "a"]);
    assert.deepEqual(socket.calls, [["watch", "a"], ["watch", "b"]]);
    socket.calls.length = 0;
    watches.show(["b", "c"]);
    assert.deepEqual(socket.calls, [["unwatch", "a"], ["watch", "c"]]);
    socket.calls.length = 0;
    watches.show(["b", "c"]);
    assert.deepEqual(socket.calls, []);
  });

  it("keeps to the most it may watch, the first on screen first", () => {
    const socket = recordingSocket();
    const watches = new SeatWatches(socket, { max: 2 });
    watches.show(["a", "b", "c", "d"]);
    assert.deepEqual([...watches.watching], ["a", "b"]);
    watches.show(["c", "d", "a"]);
    assert.deepEqual([...watches.watching].sort(), ["c", "d"]);
    assert.deepEqual(socket.calls.slice(2), [["unwatch", "a"], ["unwatch", "b"], ["watch", "c"], ["watch", "d"]]);
  });

  it("rewrites a card's seats from a course.seats frame", () => {
    const badge = { textContent: "3 seats left", className: "seats-left seats-few" };
    assert.equal(applySeats(badge, { course: "a", seats_taken: 10, capacity: 12 }), true);
    assert.equal(badge.textContent, "2 seats left");
    assert.equal(applySeats(badge, { course: "a", seats_taken: 12, capacity: 12 }), true);
    assert.deepEqual(badge, { textContent: "Full", className: "seats-left seats-full" });
    assert.equal(applySeats(badge, { course: "a", seats_taken: 12, capacity: 12 }), false);
    applySeats(badge, { course: "a", seats_taken: 3, capacity: null });
    assert.deepEqual(badge, { textContent: "Open enrollment", className: "seats-left seats-open" });
  });
});
