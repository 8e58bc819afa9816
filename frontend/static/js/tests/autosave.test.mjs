import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ApiError } from "../api.js";
import { Autosave, autosaveLabel } from "../autosave.js";
import { FakeTimers } from "./fakes.mjs";

// A fake server holding one object with a version: PATCHes with a stale version are
// refused the way the API refuses them (409 edit_conflict with `current`).
function fakeServer(initial) {
  const server = { stored: { ...initial }, requests: [], hold: null, fail: null };
  server.send = async (body) => {
    server.requests.push(body);
    if (server.hold) await server.hold;
    if (server.fail) {
      const failure = server.fail;
      server.fail = null;
      throw failure;
    }
    if (body.version !== server.stored.version) {
      throw new ApiError(409, { code: "edit_conflict", message: "Changed in another tab.", current: { ...server.stored } });
    }
    const { version, ...fields } = body;
    server.stored = { ...server.stored, ...fields, version: server.stored.version + 1 };
    return { ...server.stored };
  };
  return server;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("Autosave", () => {
  it("sends one PATCH with the version after the pause, then says Saved", async () => {
    const timers = new FakeTimers();
    const server = fakeServer({ title: "Old", summary: "S", version: 3 });
    const states = [];
    const save = new Autosave({ send: server.send, version: 3, delay: 800, timers, onChange: (s) => states.push(s.state) });
    save.change({ title: "N" });
    save.change({ title: "New" });
    save.change({ summary: "Sum" });
    assert.equal(save.state, "pending");
    assert.equal(save.dirty, true);
    timers.advance(799);
    assert.equal(server.requests.length, 0);
    timers.advance(1);
    await settle();
    assert.deepEqual(server.requests, [{ title: "New", summary: "Sum", version: 3 }]);
    assert.equal(save.state, "saved");
    assert.equal(save.version, 4);
    assert.equal(save.dirty, false);
    assert.deepEqual(states.slice(-2), ["saving", "saved"]);
    assert.equal(autosaveLabel(save.state), "Saved");
  });

  it("sends edits made while saving in a second PATCH with the new version", async () => {
    const timers = new FakeTimers();
    const server = fakeServer({ title: "A", version: 1 });
    let release;
    server.hold = new Promise((resolve) => (release = resolve));
    const save = new Autosave({ send: server.send, version: 1, timers });
    save.change({ title: "B" });
    const first = save.save();
    assert.equal(save.state, "saving");
    save.change({ title: "C" });
    assert.equal(save.state, "saving");
    server.hold = null;
    release();
    await first;
    assert.deepEqual(server.requests, [
      { title: "B", version: 1 },
      { title: "C", version: 2 },
    ]);
    assert.equal(server.stored.title, "C");
    assert.equal(save.state, "saved");
    assert.equal(save.version, 3);
  });

  it("keeps the edits after a failure and sends them again on retry", async () => {
    const timers = new FakeTimers();
    const server = fakeServer({ title: "A", version: 1 });
    server.fail = new ApiError(0, { code: "network", message: "Could not reach the server." });
    const save = new Autosave({ send: server.send, version: 1, timers });
    save.change({ title: "B" });
    await save.save();
    assert.equal(save.state, "error");
    assert.equal(save.error.code, "network");
    assert.equal(save.dirty, true);
    assert.equal(server.stored.title, "A");
    await save.retry();
    assert.equal(save.state, "saved");
    assert.equal(server.stored.title, "B");
  });

  it("on 409 writes nothing, exposes theirs, and Load theirs drops the unsent edits", async () => {
    const timers = new FakeTimers();
    const server = fakeServer({ title: "Mine v1", version: 1 });
    const save = new Autosave({ send: server.send, version: 1, timers });
    // Another tab saves first.
    await server.send({ title: "Theirs", version: 1 });
    save.change({ title: "Mine" });
    await save.save();
    assert.equal(save.state, "conflict");
    assert.deepEqual(save.current, { title: "Theirs", version: 2 });
    assert.equal(server.stored.title, "Theirs", "nothing silently overwritten");
    // An edit made during the conflict does not send anything by itself.
    save.change({ title: "Mine, still" });
    timers.advance(5000);
    await settle();
    assert.equal(server.requests.length, 2);
    assert.equal(save.state, "conflict");

    const theirs = save.loadTheirs();
    assert.equal(theirs.title, "Theirs");
    assert.equal(save.version, 2);
    assert.equal(save.dirty, false);
    assert.equal(save.state, "saved");
    // The next edit goes over their version.
    save.change({ title: "After" });
    await save.save();
    assert.equal(server.stored.title, "After");
    assert.equal(server.requests.at(-1).version, 2);
  });

  it("Keep mine re-sends the edits with their version", async () => {
    const timers = new FakeTimers();
    const server = fakeServer({ title: "Start", body: "x", version: 5 });
    const save = new Autosave({ send: server.send, version: 5, timers });
    await server.send({ body: "their body", version: 5 });
    save.change({ title: "My title" });
    await save.save();
    assert.equal(save.state, "conflict");
    await save.keepMine();
    assert.equal(save.state, "saved");
    assert.deepEqual(server.requests.at(-1), { title: "My title", version: 6 });
    assert.equal(server.stored.title, "My title");
    assert.equal(server.stored.body, "their body", "only my edited fields are sent");
    assert.equal(save.version, 7);
  });
});
