import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { presenceText, throttledText, viewingText } from "../presence.js";
import { PortalSocket, watchFrame } from "../socket.js";
import { fakeWebSocketClass, FakeTimers, MemoryStorage } from "./fakes.mjs";

describe("presenceText", () => {
  it("counts the reader among the learners when their tab is one of them", () => {
    assert.equal(presenceText(1, { counted: true }), ""); // only you: nothing to say
    assert.equal(presenceText(2, { counted: true }), "You and 1 other learner are here now");
    assert.equal(presenceText(5, { counted: true }), "You and 4 other learners are here now");
    // A count computed just before the reader's own tab arrived.
    assert.equal(presenceText(0, { counted: true }), "");
  });

  it("speaks of everyone to a reader who is not counted (signed out, an author)", () => {
    assert.equal(presenceText(0), "");
    assert.equal(presenceText(1), "1 learner is here now");
    assert.equal(presenceText(3), "3 learners are here now");
  });

  it("says nothing for a count that is not one", () => {
    for (const bad of [undefined, null, -1, 1.5, "2", NaN]) assert.equal(presenceText(bad), "");
  });
});

describe("viewingText", () => {
  it("names the learners viewing a course, nothing for none", () => {
    assert.equal(viewingText(0), "");
    assert.equal(viewingText(1), "1 learner viewing now");
    assert.equal(viewingText(12), "12 learners viewing now");
    assert.equal(viewingText(undefined), "");
  });
});

describe("throttledText", () => {
  function setup(every = 10_000) {
    const timers = new FakeTimers();
    const written = [];
    const update = throttledText((text) => written.push(text), { every, timers, now: () => timers.now });
    return { timers, written, update };
  }

  it("writes the first change at once and later ones at most once per interval, the latest winning", () => {
    const { timers, written, update } = setup();
    update(""); // what is there already
    assert.deepEqual(written, []);
    update("2 learners are here now");
    assert.deepEqual(written, ["2 learners are here now"]);
    timers.advance(1000);
    update("3 learners are here now");
    update("4 learners are here now");
    assert.equal(written.length, 1); // held until the interval has passed
    timers.advance(8999);
    assert.equal(written.length, 1);
    timers.advance(1);
    assert.deepEqual(written, ["2 learners are here now", "4 learners are here now"]);
    timers.advance(60_000); // quiet: the next change is written at once
    update("1 learner is here now");
    assert.deepEqual(written.at(-1), "1 learner is here now");
  });

  it("writes nothing for a change that went back to what is written", () => {
    const { timers, written, update } = setup();
    update("2 learners are here now");
    update("3 learners are here now"); // held
    update("2 learners are here now"); // and back
    timers.advance(10_000);
    assert.deepEqual(written, ["2 learners are here now"]);
    update("2 learners are here now");
    assert.equal(written.length, 1);
  });

  it("cancel drops a held change", () => {
    const { timers, written, update } = setup();
    update("a");
    update("b");
    update.cancel();
    timers.advance(20_000);
    assert.deepEqual(written, ["a"]);
  });
});

describe("PortalSocket present watches", () => {
  function setup() {
    const WS = fakeWebSocketClass();
    const timers = new FakeTimers();
    const socket = new PortalSocket({ url: "ws://portal.test/ws/", WebSocketImpl: WS, storage: new MemoryStorage(), timers, now: () => timers.now, random: () => 0, onGap: () => {} });
    socket.connect();
    const ws = () => WS.instances[WS.instances.length - 1];
    return { socket, ws, timers };
  }

  it("builds the frame with present only when the tab is the course's page", () => {
    assert.deepEqual(watchFrame("intro"), { type: "watch", course: "intro" });
    assert.deepEqual(watchFrame("intro", true), { type: "watch", course: "intro", present: true });
  });

  it("sends present with the watch and again with it after a reconnect and a resync", () => {
    const { socket, ws, timers } = setup();
    ws().open();
    ws().receive({ type: "hello", user: { id: 1 }, seq: 0 });
    socket.watch("intro", { present: true });
    socket.watch("other");
    assert.deepEqual(ws().frames("watch"), [
      { type: "watch", course: "intro", present: true },
      { type: "watch", course: "other" },
    ]);
    ws().receive({ type: "resync" });
    assert.equal(ws().frames("watch").filter((frame) => frame.present).length, 2);
    ws().drop();
    timers.advance(60_000);
    ws().open();
    ws().receive({ type: "hello", user: { id: 1 }, seq: 0 });
    assert.deepEqual(ws().frames("watch"), [
      { type: "watch", course: "intro", present: true },
      { type: "watch", course: "other" },
    ]);
  });

  it("passes course.presence frames to their listeners (state: no seq)", () => {
    const { socket, ws } = setup();
    const told = [];
    socket.on("course.presence", (frame) => told.push(frame.learners));
    ws().open();
    ws().receive({ type: "hello", user: null, seq: 0 });
    ws().receive({ type: "course.presence", course: "intro", learners: 3 });
    ws().receive({ type: "course.presence", course: "intro", learners: 2 });
    assert.deepEqual(told, [3, 2]);
  });
});
