import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { backoffCeiling } from "../backoff.js";
import { PortalSocket, SEQ_KEY_PREFIX, socketUrl } from "../socket.js";
import { fakeWebSocketClass, FakeTimers, MemoryStorage } from "./fakes.mjs";

const USER = { id: 7, email: "s@example.com", name: "Sam", roles: ["student"] };

function setup({ stored, random = () => 0.5, onGap } = {}) {
  const WS = fakeWebSocketClass();
  const timers = new FakeTimers();
  const storage = new MemoryStorage(stored === undefined ? {} : { [SEQ_KEY_PREFIX + USER.id]: String(stored) });
  const gaps = [];
  const socket = new PortalSocket({
    url: "ws://portal.test/ws/",
    WebSocketImpl: WS,
    storage,
    timers,
    now: () => timers.now,
    random,
    onGap: onGap ?? ((frame) => gaps.push(frame)),
  });
  const events = [];
  for (const type of ["enrollment.status", "progress.updated", "enrollment.created", "course.seats", "search.results"]) {
    socket.on(type, (frame) => events.push(frame.seq ?? frame.type));
  }
  const states = [];
  socket.on("status", ({ state }) => states.push(state));
  socket.connect();
  const ws = () => WS.instances[WS.instances.length - 1];
  return { WS, timers, storage, socket, events, states, gaps, ws };
}

function event(seq, type = "progress.updated") {
  return { type, seq, enrollment: 1, lesson: 2, completed: true, percent: 50 };
}

describe("PortalSocket", () => {
  it("builds the socket URL from the page's location", () => {
    assert.equal(socketUrl({ protocol: "http:", host: "127.0.0.1:8000" }), "ws://127.0.0.1:8000/ws/");
    assert.equal(socketUrl({ protocol: "https:", host: "portal.example" }), "wss://portal.example/ws/");
  });

  it("goes live on hello and starts from the server's seq in a fresh tab (no resume)", () => {
    const { socket, ws, storage, states } = setup();
    assert.equal(socket.state, "connecting");
    ws().open();
    ws().receive({ type: "hello", user: USER, seq: 5 });
    assert.equal(socket.state, "live");
    assert.deepEqual(states, ["connecting", "live"]);
    assert.equal(socket.lastSeq, 5);
    assert.equal(storage.getItem("portal.seq.7"), "5");
    assert.deepEqual(ws().frames("resume"), []);
  });

  it("resumes after the seq stored in sessionStorage (a reload) and applies the missed events in order", () => {
    const { ws, events, storage, socket } = setup({ stored: 3 });
    ws().open();
    ws().receive({ type: "hello", user: USER, seq: 5 });
    assert.deepEqual(ws().frames("resume"), [{ type: "resume", after: 3 }]);
    ws().receive(event(4));
    ws().receive(event(5));
    ws().receive({ type: "resume.done", seq: 5 });
    assert.deepEqual(events, [4, 5]);
    assert.equal(storage.getItem("portal.seq.7"), "5");
    assert.equal(socket.resuming, false);
  });

  it("does not resume when it is up to date, and restarts from the server when its log was reset", () => {
    const upToDate = setup({ stored: 5 });
    upToDate.ws().open();
    upToDate.ws().receive({ type: "hello", user: USER, seq: 5 });
    assert.deepEqual(upToDate.ws().frames("resume"), []);

    const reset = setup({ stored: 40 });
    reset.ws().open();
    reset.ws().receive({ type: "hello", user: USER, seq: 2 });
    assert.deepEqual(reset.ws().frames("resume"), []);
    assert.equal(reset.socket.lastSeq, 2);
    reset.ws().receive(event(3));
    assert.deepEqual(reset.events, [3]);
  });

  it("drops events it has already seen (live and again through a resume)", () => {
    const { ws, events } = setup();
    ws().open();
    ws().receive({ type: "hello", user: USER, seq: 0 });
    ws().receive(event(1));
    ws().receive(event(2));
    ws().receive(event(2));
    ws().receive(event(1));
    ws().receive(event(3));
    assert.deepEqual(events, [1, 2, 3]);
  });

  it("fills a hole in the seqs with a resume instead of applying events out of order", () => {
    const { ws, events } = setup();
    ws().open();
    ws().receive({ type: "hello", user: USER, seq: 5 });
    ws().receive(event(7)); // 6 was lost by the channel layer
    assert.deepEqual(events, []);
    assert.deepEqual(ws().frames("resume"), [{ type: "resume", after: 5 }]);
    ws().receive(event(8)); // still resuming: no second resume, not applied
    assert.equal(ws().frames("resume").length, 1);
    ws().receive(event(6));
    ws().receive(event(7));
    ws().receive(event(8));
    ws().receive({ type: "resume.done", seq: 8 });
    ws().receive(event(8)); // the live copy, late
    assert.deepEqual(events, [6, 7, 8]);
  });

  it("answers resync as after a reconnect: its watches again and a resume from its last seq", () => {
    const { ws, socket, events } = setup();
    ws().open();
    ws().receive({ type: "hello", user: USER, seq: 4 });
    socket.watch("intro-to-python");
    ws().receive({ type: "resync" }); // 5 and 6 were lost while the server had no Redis
    assert.deepEqual(ws().frames("resume"), [{ type: "resume", after: 4 }]);
    assert.deepEqual(ws().frames("watch"), [
      { type: "watch", course: "intro-to-python" },
      { type: "watch", course: "intro-to-python" },
    ]);
    ws().receive(event(5));
    ws().receive(event(6));
    ws().receive({ type: "resume.done", seq: 6 });
    ws().receive(event(7));
    assert.deepEqual(events, [5, 6, 7]);
    assert.equal(socket.state, "live");
    assert.equal(ws().frames("resume").length, 1);
  });

  it("resumes once more after the resume in flight when a resync arrives during it", () => {
    const { ws, socket, events } = setup({ stored: 2 });
    ws().open();
    ws().receive({ type: "hello", user: USER, seq: 3 });
    assert.deepEqual(ws().frames("resume"), [{ type: "resume", after: 2 }]);
    ws().receive({ type: "resync" });
    assert.equal(ws().frames("resume").length, 1); // not two resumes at once
    ws().receive(event(3));
    ws().receive({ type: "resume.done", seq: 3 });
    assert.deepEqual(ws().frames("resume"), [
      { type: "resume", after: 2 },
      { type: "resume", after: 3 },
    ]);
    ws().receive(event(4));
    ws().receive({ type: "resume.done", seq: 4 });
    assert.deepEqual(events, [3, 4]);
    assert.equal(socket.resuming, false);
    assert.equal(ws().frames("resume").length, 2);
  });

  it("answers resync on an anonymous socket with its watches only", () => {
    const { ws, socket } = setup();
    ws().open();
    ws().receive({ type: "hello", user: null, seq: 0 });
    socket.watch("intro-to-python");
    ws().receive({ type: "resync" });
    assert.equal(ws().frames("watch").length, 2);
    assert.deepEqual(ws().frames("resume"), []);
  });

  it("reconnects with jittered backoff, re-sends its watches and resumes from the last seq", () => {
    const { WS, ws, timers, socket, events, states } = setup({ random: () => 1 });
    ws().open();
    ws().receive({ type: "hello", user: USER, seq: 2 });
    socket.watch("intro-to-python");
    assert.deepEqual(ws().frames("watch"), [{ type: "watch", course: "intro-to-python" }]);

    ws().drop();
    assert.equal(socket.state, "offline");
    const [delay] = timers.pending();
    assert.equal(delay, backoffCeiling(0)); // random()=1 → the top of the first window
    timers.advance(delay - 1);
    assert.equal(WS.instances.length, 1);
    timers.advance(1);
    assert.equal(WS.instances.length, 2);
    assert.equal(socket.state, "connecting");

    ws().drop(); // the server is still down: the next wait doubles
    assert.equal(timers.pending()[0], backoffCeiling(1));
    timers.advance(backoffCeiling(1));

    ws().open();
    ws().receive({ type: "hello", user: USER, seq: 4 }); // two events happened meanwhile
    assert.deepEqual(ws().frames("watch"), [{ type: "watch", course: "intro-to-python" }]);
    assert.deepEqual(ws().frames("resume"), [{ type: "resume", after: 2 }]);
    ws().receive(event(3, "enrollment.status"));
    ws().receive(event(4));
    ws().receive({ type: "resume.done", seq: 4 });
    assert.deepEqual(events, [3, 4]);
    assert.equal(socket.attempts, 0); // a good hello resets the backoff
    assert.deepEqual(states, ["connecting", "live", "offline", "connecting", "offline", "connecting", "live"]);
  });

  it("no longer watches what it unwatched", () => {
    const { ws, socket, timers } = setup();
    ws().open();
    ws().receive({ type: "hello", user: null, seq: 0 });
    socket.watch("a");
    socket.watch("b");
    socket.unwatch("a");
    assert.deepEqual(ws().frames("unwatch"), [{ type: "unwatch", course: "a" }]);
    ws().drop();
    timers.advance(60_000);
    ws().open();
    ws().receive({ type: "hello", user: null, seq: 0 });
    assert.deepEqual(ws().frames("watch"), [{ type: "watch", course: "b" }]);
  });

  it("pings every 25 s and treats 60 s of silence as a dead connection", () => {
    const { WS, ws, timers, socket } = setup();
    ws().open();
    ws().receive({ type: "hello", user: USER, seq: 0 });
    timers.advance(25_000);
    assert.equal(ws().frames("ping").length, 1);
    ws().receive({ type: "pong" });
    timers.advance(25_000);
    assert.equal(ws().frames("ping").length, 2);
    ws().receive({ type: "heartbeat" }); // t=50 s
    timers.advance(59_000); // t=109 s: 59 s since the last frame
    assert.equal(socket.state, "live");
    const first = ws();
    timers.advance(6_000); // past 60 s of silence, caught by the 5 s check
    assert.equal(first.closed, true);
    assert.equal(socket.state, "offline");
    timers.advance(backoffCeiling(0));
    assert.equal(WS.instances.length, 2);
    assert.equal(socket.state, "connecting");
  });

  it("on resume.gap remembers the newest seq and lets the page reload", () => {
    const { ws, gaps, storage } = setup({ stored: 1 });
    ws().open();
    ws().receive({ type: "hello", user: USER, seq: 900 });
    assert.deepEqual(ws().frames("resume"), [{ type: "resume", after: 1 }]);
    ws().receive({ type: "resume.gap", after: 1, seq: 900 });
    assert.equal(gaps.length, 1);
    assert.equal(storage.getItem("portal.seq.7"), "900"); // the reload does not loop
  });

  it("keeps a seq per user and none for anonymous sockets", () => {
    const { ws, storage, socket, events } = setup();
    ws().open();
    ws().receive({ type: "hello", user: null, seq: 0 });
    assert.equal(socket.lastSeq, null);
    ws().receive({ type: "course.seats", course: "x", seats_taken: 3, capacity: 10 });
    assert.deepEqual(events, ["course.seats"]);
    assert.deepEqual([...storage.map.keys()], []);
    assert.deepEqual(ws().frames("resume"), []);
  });

  it("refuses to send while not live, and stops for good on close()", () => {
    const { WS, ws, socket, timers } = setup();
    assert.equal(socket.send({ type: "ping" }), false);
    ws().open();
    ws().receive({ type: "hello", user: null, seq: 0 });
    assert.equal(socket.send({ type: "search", id: 1, q: "py" }), true);
    socket.close();
    assert.equal(socket.state, "idle");
    timers.advance(120_000);
    assert.equal(WS.instances.length, 1);
  });

  it("ignores frames that are not JSON objects with a type", () => {
    const { ws, socket, events } = setup();
    ws().open();
    ws().onmessage({ data: "not json" });
    ws().onmessage({ data: "[1,2]" });
    ws().receive({ type: "hello", user: USER, seq: 0 });
    assert.equal(socket.state, "live");
    assert.deepEqual(events, []);
  });
});
