import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { deviceLabel, emailState, KIND_LABELS, profileChanges, signinWhen } from "../account.js";

describe("deviceLabel", () => {
  it("names the browser and the system of common user agents", () => {
    const cases = {
      "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0": "Firefox on Linux",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0": "Edge on Windows",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15": "Safari on macOS",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1": "Chrome on iOS",
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36": "Chrome on Android",
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36": "Chrome on Linux",
    };
    for (const [agent, label] of Object.entries(cases)) assert.equal(deviceLabel(agent), label, agent);
  });

  it("names other clients by their first word, and says when it does not know", () => {
    assert.equal(deviceLabel("curl/8.5.0"), "curl");
    assert.equal(deviceLabel("python-requests/2.32.3"), "python-requests");
    assert.equal(deviceLabel(""), "Unknown device");
    assert.equal(deviceLabel(null), "Unknown device");
    assert.equal(deviceLabel(`${"x".repeat(60)}/1`), `${"x".repeat(40)}…`);
  });
});

describe("emailState", () => {
  it("says verified, not verified, or which new address waits for its link", () => {
    assert.deepEqual(emailState({ email: "a@b.c", email_verified: true, pending_email: null }), { label: "Verified", tone: "verified", detail: "" });
    assert.equal(emailState({ email: "a@b.c", email_verified: false, pending_email: null }).label, "Not verified");
    const pending = emailState({ email: "a@b.c", email_verified: true, pending_email: "new@b.c" });
    assert.equal(pending.tone, "pending");
    assert.match(pending.detail, /^Waiting for you to confirm new@b\.c/);
    assert.match(pending.detail, /sign in with a@b\.c\.$/);
  });
});

describe("profileChanges", () => {
  const user = { name: "Ada", email: "ada@example.com", pending_email: null };

  it("sends only what changed, trimmed, the email lower-cased", () => {
    assert.deepEqual(profileChanges(user, { name: " Ada ", email: "ada@example.com" }), {});
    assert.deepEqual(profileChanges(user, { name: "Ada L.", email: "ada@example.com" }), { name: "Ada L." });
    assert.deepEqual(profileChanges(user, { name: "Ada", email: " New@Example.com " }), { email: "new@example.com" });
  });

  it("treats the address already waiting as asked, and the one in use as calling it off", () => {
    const waiting = { ...user, pending_email: "new@example.com" };
    assert.deepEqual(profileChanges(waiting, { name: "Ada", email: "new@example.com" }), {});
    assert.deepEqual(profileChanges(waiting, { name: "Ada", email: "ada@example.com" }), { email: "ada@example.com" });
    assert.deepEqual(profileChanges(waiting, { name: "Ada", email: "other@example.com" }), { email: "other@example.com" });
  });
});

describe("signinWhen and KIND_LABELS", () => {
  it("says when a sign-in started and was last used", () => {
    const now = Date.parse("2026-12-05T12:00:00Z");
    const text = signinWhen({ created_at: "2026-12-01T09:30:00Z", last_used_at: "2026-12-05T11:50:00Z" }, now);
    assert.match(text, /^Signed in .+ · last active 10 min ago$/);
    assert.match(signinWhen({ created_at: "2026-12-01T09:30:00Z", last_used_at: null }, now), /not used yet$/);
    assert.deepEqual(KIND_LABELS, { session: "Browser", token: "API token" });
  });
});
