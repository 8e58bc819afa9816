import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { claimOfflineData, forgetOfflineData, USER_CACHE } from "../offline.js";
import { MemoryStorage } from "./fakes.mjs";

function fakeCaches() {
  const names = new Set([USER_CACHE, "portal-shell-abc"]);
  return {
    names,
    delete: async (name) => names.delete(name),
  };
}

describe("offline data", () => {
  it("is kept for the user who opened it and deleted when another user, or nobody, is signed in", async () => {
    const storage = new MemoryStorage();
    const cachesApi = fakeCaches();
    const posted = [];
    const nav = { serviceWorker: { controller: { postMessage: (m) => posted.push(m) } } };

    // No owner yet: nothing was kept since the last forget; user 5 owns what comes.
    assert.equal(await claimOfflineData(5, { storage, cachesApi, nav }), false);
    assert.equal(storage.getItem("portal.offline-owner"), "5");
    assert.ok(cachesApi.names.has(USER_CACHE), "the lesson its first page kept stays");
    assert.equal(await claimOfflineData(5, { storage, cachesApi, nav }), false);
    assert.ok(cachesApi.names.has(USER_CACHE), "the same user keeps it");

    const claim = claimOfflineData(6, { storage, cachesApi, nav });
    assert.equal(storage.getItem("portal.offline-owner"), "6", "the new owner is known at once");
    assert.equal(await claim, true);
    assert.ok(!cachesApi.names.has(USER_CACHE), "another user: gone");
    assert.ok(cachesApi.names.has("portal-shell-abc"), "the app shell holds nobody's data");
    cachesApi.names.add(USER_CACHE);
    assert.equal(await claimOfflineData(null, { storage, cachesApi, nav }), true);
    assert.ok(!cachesApi.names.has(USER_CACHE), "signed out: gone");
    assert.equal(storage.getItem("portal.offline-owner"), null);
    assert.deepEqual(posted, [{ type: "forget" }, { type: "forget" }]);
  });

  it("without storage, forgets whenever nobody is signed in", async () => {
    const broken = { getItem() { throw new Error("denied"); }, setItem() { throw new Error("denied"); }, removeItem() { throw new Error("denied"); } };
    const cachesApi = fakeCaches();
    assert.equal(await claimOfflineData(5, { storage: broken, cachesApi, nav: {} }), false);
    assert.ok(cachesApi.names.has(USER_CACHE));
    assert.equal(await claimOfflineData(null, { storage: broken, cachesApi, nav: {} }), true);
    assert.ok(!cachesApi.names.has(USER_CACHE));
  });

  it("forgets on sign-out without a Cache API or storage", async () => {
    const cachesApi = fakeCaches();
    const storage = new MemoryStorage({ "portal.offline-owner": "5" });
    await forgetOfflineData({ cachesApi, storage, nav: {} });
    assert.ok(!cachesApi.names.has(USER_CACHE));
    assert.equal(storage.getItem("portal.offline-owner"), null);
    await forgetOfflineData({ cachesApi: undefined, storage: null, nav: undefined });
  });
});
