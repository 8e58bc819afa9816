import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { api, ApiError, csrfToken, errorFromBody, fieldMessages, query } from "../api.js";

function fakeFetch(status, body, headers = {}) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, init });
    return {
      status,
      ok: status >= 200 && status < 300,
      headers: { get: (name) => ({ "content-type": "application/json", ...headers })[name.toLowerCase()] ?? null },
      json: async () => body,
    };
  };
  return { fetchImpl, calls };
}

describe("api", () => {
  it("reads the CSRF token from the cookie string", () => {
    assert.equal(csrfToken("a=1; csrftoken=abc%3D; b=2"), "abc=");
    assert.equal(csrfToken("a=1"), "");
  });

  it("turns the contract's error body into an ApiError", () => {
    const error = errorFromBody(402, { error: { code: "payment_declined", message: "Your card was declined.", decline_code: "card_declined" } });
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 402);
    assert.equal(error.code, "payment_declined");
    assert.equal(error.message, "Your card was declined.");
    assert.equal(error.retryable, false);
    const invalid = errorFromBody(400, { error: { code: "invalid", message: "Invalid input", fields: { "student.email": ["Enter a valid email address."] } } });
    assert.deepEqual(fieldMessages(invalid), { "student.email": "Enter a valid email address." });
    const throttled = errorFromBody(429, null, "17");
    assert.equal(throttled.retryAfter, 17);
    assert.equal(throttled.retryable, true);
    assert.match(errorFromBody(502, "<html>").message, /unavailable/);
  });

  it("sends JSON with the CSRF header on unsafe methods only", async () => {
    globalThis.document = { cookie: "csrftoken=tok" };
    try {
      const post = fakeFetch(201, { id: 1 });
      assert.deepEqual(await api("/api/enrollments", { method: "POST", body: { a: 1 }, headers: { "Idempotency-Key": "k" }, fetchImpl: post.fetchImpl }), { id: 1 });
      const sent = post.calls[0].init;
      assert.equal(sent.headers["X-CSRFToken"], "tok");
      assert.equal(sent.headers["Idempotency-Key"], "k");
      assert.equal(sent.headers["Content-Type"], "application/json");
      assert.equal(sent.body, '{"a":1}');
      assert.equal(sent.credentials, "same-origin");

      const get = fakeFetch(200, { ok: true });
      await api("/api/me", { fetchImpl: get.fetchImpl });
      assert.equal(get.calls[0].init.headers["X-CSRFToken"], undefined);
    } finally {
      delete globalThis.document;
    }
  });

  it("raises ApiError on an error status and on a network failure", async () => {
    const conflict = fakeFetch(409, { error: { code: "course_full", message: "This course is full." } });
    await assert.rejects(api("/api/enrollments", { method: "POST", body: {}, fetchImpl: conflict.fetchImpl }), { code: "course_full", status: 409 });
    const offline = async () => {
      throw new TypeError("Failed to fetch");
    };
    await assert.rejects(api("/api/courses", { fetchImpl: offline }), (error) => error.status === 0 && error.code === "network" && error.retryable);
  });

  it("builds query strings without empty values", () => {
    assert.equal(query({ q: "py thon", category: "", level: null, limit: 8 }), "?q=py+thon&limit=8");
    assert.equal(query({}), "");
  });
});
