import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { clockText, holdLeft, spokenLeft, startCountdown } from "../checkout.js";
import { checkoutMessage, couponText } from "../enroll.js";

describe("the seat hold's countdown", () => {
  const end = "2026-12-05T10:15:00Z";
  const at = (iso) => Date.parse(iso);

  it("counts whole seconds left, never below zero, and nothing without a hold", () => {
    assert.equal(holdLeft(end, at("2026-12-05T10:00:00Z")), 900);
    assert.equal(holdLeft(end, at("2026-12-05T10:14:59.200Z")), 1);
    assert.equal(holdLeft(end, at("2026-12-05T10:16:00Z")), 0);
    assert.equal(holdLeft(null), null);
    assert.equal(holdLeft("not a date"), null);
  });

  it("shows minutes and seconds, and says them", () => {
    assert.equal(clockText(905), "15:05");
    assert.equal(clockText(59), "0:59");
    assert.equal(clockText(0), "0:00");
    assert.equal(spokenLeft(60), "1 minute");
    assert.equal(spokenLeft(600), "10 minutes");
    assert.equal(spokenLeft(1), "1 second");
  });

  it("ticks until the hold runs out, then stops by itself", () => {
    let now = at("2026-12-05T10:14:58Z");
    const seen = [];
    const timers = {
      callback: null,
      setInterval(fn) {
        this.callback = fn;
        return 1;
      },
      clearInterval() {
        this.callback = null;
      },
    };
    startCountdown(end, (left) => seen.push(left), { now: () => now, timers });
    for (let i = 0; i < 4 && timers.callback; i++) {
      now += 1000;
      timers.callback();
    }
    assert.deepEqual(seen, [2, 1, 0]);
    assert.equal(timers.callback, null);
  });

  it("does not start ticking for a hold already over", () => {
    const timers = { setInterval: () => assert.fail("no timer"), clearInterval() {} };
    const seen = [];
    startCountdown(end, (left) => seen.push(left), { now: () => at("2026-12-05T11:00:00Z"), timers });
    assert.deepEqual(seen, [0]);
  });
});

describe("what an open checkout says", () => {
  it("asks for the bank's check, explains a failure, or waits", () => {
    assert.match(checkoutMessage({ status: "requires_action", next_action: { type: "redirect_to_url" } }), /bank asks you to confirm/);
    assert.equal(
      checkoutMessage({ status: "failed", failure_reason: "Your card was declined.", next_action: null }),
      "The payment did not go through: Your card was declined. Nothing was charged; try another card.",
    );
    assert.match(checkoutMessage({ status: "pending", next_action: null }), /being confirmed/);
  });
});

describe("a coupon, before paying", () => {
  it("says what it takes off and what is paid, or that no card is needed", () => {
    assert.equal(
      couponText({ code: "LAUNCH20", percent_off: 20, amount_off: null, amount: "39.20", price: "49.00" }, "usd"),
      "LAUNCH20: 20% off. You pay $39.20 instead of $49.00.",
    );
    assert.equal(
      couponText({ code: "GIFT", percent_off: null, amount_off: "60.00", amount: "0.00", price: "49.00" }, "usd"),
      "GIFT: $60.00 off. This course is free with it; no card needed.",
    );
  });
});
