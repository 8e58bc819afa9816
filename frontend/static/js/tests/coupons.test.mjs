import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { countText, couponRequest, discountText, expiryText, usesText } from "../coupons.js";

const empty = { code: "", percent_off: "", amount_off: "", max_redemptions: "", expires_at: "" };

describe("couponRequest (the studio's coupon form → the API's body)", () => {
  it("sends a percentage with its limits; empty boxes are null", () => {
    const { body, problems } = couponRequest({ ...empty, code: "  launch20 ", percent_off: "20", max_redemptions: "100" });

    assert.deepEqual(problems, {});
    assert.deepEqual(body, { code: "launch20", percent_off: 20, amount_off: null, max_redemptions: 100, expires_at: null });
  });

  it("sends an amount as text and the expiry as an instant", () => {
    const local = "2031-03-04T05:06";
    const { body, problems } = couponRequest({ ...empty, code: "TEN-OFF_1", amount_off: "10.50", expires_at: local });

    assert.deepEqual(problems, {});
    assert.equal(body.amount_off, "10.50");
    assert.equal(body.percent_off, null);
    assert.equal(body.expires_at, new Date(local).toISOString());
    assert.match(body.expires_at, /Z$/);
  });

  it("names the fields to fix before anything is sent", () => {
    assert.deepEqual(Object.keys(couponRequest(empty).problems).sort(), ["amount_off", "code", "percent_off"]);
    assert.deepEqual(couponRequest({ ...empty, code: "no spaces", percent_off: "5" }).problems, { code: ["Use 3 to 32 letters, digits, - or _."] });
    assert.deepEqual(Object.keys(couponRequest({ ...empty, code: "AB", percent_off: "5" }).problems), ["code"]);
    const both = couponRequest({ ...empty, code: "BOTH", percent_off: "5", amount_off: "5" }).problems;
    assert.deepEqual(Object.keys(both).sort(), ["amount_off", "percent_off"]);
    assert.match(both.percent_off[0], /not both/);
    assert.deepEqual(Object.keys(couponRequest({ ...empty, code: "WHEN", percent_off: "5", expires_at: "soon" }).problems), ["expires_at"]);
  });
});

describe("the coupon table's labels", () => {
  const coupon = { code: "SAVE", percent_off: null, amount_off: "10.00", max_redemptions: 5, redeemed: 2, expires_at: null };

  it("says the discount in the course's currency", () => {
    assert.equal(discountText({ ...coupon, percent_off: 20, amount_off: null }), "20% off");
    assert.match(discountText(coupon, "eur"), /^(€10\.00|10[.,]00\s?€) off$/);
  });

  it("counts the uses, unlimited or used up", () => {
    assert.equal(usesText(coupon), "2 of 5");
    assert.equal(usesText({ ...coupon, redeemed: 5 }), "5 of 5 (used up)");
    assert.equal(usesText({ ...coupon, max_redemptions: null, redeemed: 7 }), "7 of unlimited");
  });

  it("says when it expires, and that it has", () => {
    const now = Date.parse("2030-06-01T12:00:00Z");
    assert.equal(expiryText(coupon, now), "Never");
    assert.doesNotMatch(expiryText({ ...coupon, expires_at: "2030-07-01T12:00:00Z" }, now), /Expired/);
    assert.match(expiryText({ ...coupon, expires_at: "2030-05-01T12:00:00Z" }, now), /^Expired /);
  });

  it("counts the coupons", () => {
    assert.equal(countText(0), "");
    assert.equal(countText(1), "1 coupon");
    assert.equal(countText(3), "3 coupons");
  });
});
