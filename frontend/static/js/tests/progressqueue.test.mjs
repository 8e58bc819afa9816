import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ApiError } from "../api.js";
import { ProgressQueue, queueKey, SaveState, saveStatusText } from "../progressqueue.js";
import { FakeTimers, MemoryStorage } from "./fakes.mjs";

// A server the test answers by hand: every send waits until the test resolves or fails it.
function fakeServer() {
  const calls = [];
  const send = (entry, options) =>
    new Promise((resolve, reject) => {
      calls.push({ entry, options, resolve, reject });
    });
  return { calls, send };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function makeQueue(overrides = {}) {
  const server = overrides.server ?? fakeServer();
  const timers = overrides.timers ?? new FakeTimers();
  const storage = overrides.storage ?? new MemoryStorage();
  const state = { online: true };
  let n = 0;
  const queue = new ProgressQueue({
    userId: 7,
    send: server.send,
    storage,
    timers,
    online: () => state.online,
    makeKey: () => `key-${++n}`,
    random: () => 0,
    ...overrides.options,
  });
  const states = [];
  queue.onChange((status) => states.push(status.state));
  return { queue, server, timers, storage, state, states };
}

const answer = (entry) => ({ enrollment: entry.enrollment, lesson: entry.body.lesson, completed: !!entry.body.completed, percent: 50 });

describe("progress queue", () => {
  it("sends writes one at a time, in order, each with its own key, and says saved once all are in", async () => {
    const { queue, server, storage, states } = makeQueue();
    queue.enqueue(10, { lesson: 1, completed: true, position_seconds: 60 });
    queue.enqueue(10, { lesson: 2, position_seconds: 5 });
    await settle();
    assert.equal(server.calls.length, 1, "the second waits for the first");
    assert.equal(server.calls[0].entry.key, "key-1");
    assert.equal(queue.status().state, SaveState.SAVING);
    assert.equal(queue.pending().length, 2);

    server.calls[0].resolve(answer(server.calls[0].entry));
    await settle();
    assert.equal(server.calls.length, 2);
    assert.deepEqual(server.calls[1].entry.body, { lesson: 2, position_seconds: 5 });
    assert.equal(server.calls[1].entry.key, "key-2");
    assert.equal(queue.status().state, SaveState.SAVING, "not saved while a write is out");

    server.calls[1].resolve(answer(server.calls[1].entry));
    await queue.flush();
    assert.equal(queue.status().state, SaveState.SAVED);
    assert.equal(storage.getItem(queueKey(7)), null);
    assert.deepEqual(states, [SaveState.SAVING, SaveState.SAVED]);
  });

  it("keeps writes made offline in storage and replays them in order when the connection is back", async () => {
    const { queue, server, state, storage } = makeQueue();
    state.online = false;
    queue.enqueue(10, { lesson: 1, position_seconds: 10 });
    queue.enqueue(10, { lesson: 1, completed: true, position_seconds: 12 });
    queue.enqueue(10, { lesson: 2, position_seconds: 3 });
    await settle();
    assert.equal(server.calls.length, 0);
    assert.equal(queue.status().state, SaveState.OFFLINE);
    assert.equal(JSON.parse(storage.getItem(queueKey(7))).length, 3);
    assert.match(saveStatusText(queue.status()), /^Offline — will save when you are back online \(3 changes waiting\)$/);

    state.online = true;
    const done = queue.wake();
    for (let i = 0; i < 3; i += 1) {
      await settle();
      server.calls[i].resolve(answer(server.calls[i].entry));
    }
    await done;
    await queue.flush();
    assert.deepEqual(
      server.calls.map((c) => [c.entry.key, c.entry.body]),
      [
        ["key-1", { lesson: 1, position_seconds: 10 }],
        ["key-2", { lesson: 1, completed: true, position_seconds: 12 }],
        ["key-3", { lesson: 2, position_seconds: 3 }],
      ],
    );
    assert.equal(queue.status().state, SaveState.SAVED);
    assert.equal(queue.pending().length, 0);
  });

  it("resends a write whose answer was lost with the same key, and nothing after it first", async () => {
    const { queue, server, timers } = makeQueue();
    queue.enqueue(10, { lesson: 1, completed: true });
    queue.enqueue(10, { lesson: 2, completed: true });
    await settle();
    server.calls[0].reject(new ApiError(0, { message: "network" }));
    await settle();
    assert.equal(queue.status().state, SaveState.OFFLINE);
    assert.equal(server.calls.length, 1);

    timers.advance(30000); // the retry timer
    await settle();
    assert.equal(server.calls.length, 2);
    assert.equal(server.calls[1].entry.key, "key-1", "the same write, the same key");
    server.calls[1].resolve(answer(server.calls[1].entry));
    await settle();
    assert.equal(server.calls[2].entry.key, "key-2");
  });

  it("lets a newer position replace an unsent one of the same lesson, never a sent one or a completion", async () => {
    const { queue, server, state } = makeQueue();
    state.online = false;
    queue.enqueue(10, { lesson: 1, position_seconds: 10 });
    queue.enqueue(10, { lesson: 1, position_seconds: 20 });
    assert.deepEqual(queue.pending().map((e) => [e.key, e.body.position_seconds]), [["key-2", 20]]);
    queue.enqueue(10, { lesson: 1, completed: true, position_seconds: 25 });
    queue.enqueue(10, { lesson: 1, position_seconds: 30 });
    queue.enqueue(11, { lesson: 1, position_seconds: 30 });
    assert.deepEqual(queue.pending().map((e) => e.key), ["key-2", "key-3", "key-4", "key-5"]);

    state.online = true;
    queue.flush();
    await settle(); // key-2 is out: attempted, so never replaced (its key may be spent)
    server.calls[0].reject(new ApiError(503, { message: "down" }));
    await settle();
    state.online = false;
    queue.enqueue(10, { lesson: 1, position_seconds: 40 });
    assert.deepEqual(queue.pending().map((e) => e.key), ["key-2", "key-3", "key-4", "key-5", "key-6"]);
  });

  it("drops a write the server refuses, says so, and goes on with the next", async () => {
    const { queue, server } = makeQueue();
    const refused = [];
    const saved = [];
    queue.onRefused((entry, error) => refused.push([entry.key, error.code]));
    queue.onSaved((entry, body) => saved.push([entry.key, body.percent]));
    queue.enqueue(10, { lesson: 1, completed: true });
    queue.enqueue(10, { lesson: 2, completed: true });
    await settle();
    server.calls[0].reject(new ApiError(409, { code: "not_active", message: "Progress can only be recorded on an active enrollment." }));
    await settle();
    assert.deepEqual(refused, [["key-1", "not_active"]]);
    assert.equal(queue.status().state, SaveState.FAILED);
    assert.equal(saveStatusText(queue.status()), "Not saved: Progress can only be recorded on an active enrollment.");
    assert.equal(server.calls.length, 2);
    server.calls[1].resolve(answer(server.calls[1].entry));
    await queue.flush();
    assert.deepEqual(saved, [["key-2", 50]]);
    assert.equal(queue.status().state, SaveState.SAVED);
  });

  it("waits as long as the server's Retry-After asks when it is busy or down", async () => {
    const { queue, server, timers } = makeQueue();
    queue.enqueue(10, { lesson: 1, position_seconds: 5 });
    await settle();
    server.calls[0].reject(new ApiError(503, { code: "unavailable", message: "down" }, { retryAfter: 7 }));
    await settle();
    assert.equal(queue.status().state, SaveState.RETRYING);
    assert.equal(saveStatusText(queue.status()), "Not saved yet — trying again…");
    timers.advance(6999);
    await settle();
    assert.equal(server.calls.length, 1);
    timers.advance(1);
    await settle();
    assert.equal(server.calls.length, 2);
    assert.equal(server.calls[1].entry.key, "key-1");
    server.calls[1].resolve(answer(server.calls[1].entry));
    await queue.flush();
    assert.equal(queue.status().state, SaveState.SAVED);
  });

  it("keeps the writes when the session has ended, for the next sign-in", async () => {
    const { queue, server } = makeQueue();
    queue.enqueue(10, { lesson: 1, completed: true });
    await settle();
    server.calls[0].reject(new ApiError(401, { code: "not_authenticated", message: "Sign in" }));
    await settle();
    assert.equal(queue.status().state, SaveState.SIGNED_OUT);
    assert.equal(queue.pending().length, 1);
    assert.equal(saveStatusText(queue.status()), "Signed out — sign in again to save your progress");
  });

  it("is picked up by the next page with the same keys, and shared by tabs one at a time", async () => {
    const storage = new MemoryStorage();
    const first = makeQueue({ storage });
    first.state.online = false;
    first.queue.enqueue(10, { lesson: 1, completed: true });
    first.queue.enqueue(10, { lesson: 2, completed: true });

    // Two tabs of the next visit drain the same queue under one lock.
    const server = fakeServer();
    let chain = Promise.resolve();
    const lock = (fn) => {
      const run = chain.then(fn);
      chain = run.catch(() => {});
      return run;
    };
    const tabA = makeQueue({ storage, server, options: { lock } });
    const tabB = makeQueue({ storage, server, options: { lock } });
    const a = tabA.queue.flush();
    const b = tabB.queue.flush();
    for (let i = 0; i < 2; i += 1) {
      await settle();
      server.calls[i].resolve(answer(server.calls[i].entry));
    }
    await Promise.all([a, b]);
    assert.deepEqual(server.calls.map((c) => c.entry.key), ["key-1", "key-2"], "each sent once");
    assert.equal(tabA.queue.status().state, SaveState.SAVED);
    tabB.queue.refresh();
    assert.equal(tabB.queue.pending().length, 0);
  });

  it("survives unreadable storage and no storage at all", async () => {
    const storage = new MemoryStorage({ [queueKey(7)]: "{oops" });
    const { queue } = makeQueue({ storage });
    assert.deepEqual(queue.entries(), []);
    const bare = new ProgressQueue({ userId: 1, send: async () => ({}), storage: null, timers: new FakeTimers(), online: () => true });
    assert.deepEqual(bare.entries(), []);
    assert.equal(saveStatusText({ state: SaveState.IDLE, pending: 0 }), "");
  });
});
