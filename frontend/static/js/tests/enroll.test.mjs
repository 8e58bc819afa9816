import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { AttemptKeys, newIdempotencyKey } from "../enroll.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("enrollment idempotency keys", () => {
  it("makes v4 UUIDs, also where crypto.randomUUID is missing (plain http)", () => {
    assert.match(newIdempotencyKey(), UUID);
    const insecure = { getRandomValues: (bytes) => globalThis.crypto.getRandomValues(bytes) };
    const keys = new Set(Array.from({ length: 100 }, () => newIdempotencyKey(insecure)));
    assert.equal(keys.size, 100);
    for (const key of keys) assert.match(key, UUID);
  });

  it("uses a new key per submit, and the same key to retry an undecided request", () => {
    let n = 0;
    const keys = new AttemptKeys(() => `k${++n}`);
    const body = '{"course":"x"}';
    assert.equal(keys.keyFor(body), "k1");
    keys.settled({ retryable: true }); // network error: the server may have done it
    assert.equal(keys.keyFor(body), "k1");
    keys.settled({ retryable: false }); // declined: a new attempt is a new payment
    assert.equal(keys.keyFor(body), "k2");
    keys.settled({ retryable: true });
    assert.equal(keys.keyFor('{"course":"y"}'), "k3"); // another body: another key
  });
});
