import assert from "node:assert/strict";
import { test } from "node:test";

import { lineLabel, seatsLabel } from "../seatsboard.js";
import { joinLabel, offerHint, panelState, placeText, waitingText } from "../waitlist.js";

test("the join button says which place the visitor would take", () => {
  assert.equal(joinLabel(0), "Join the waitlist — you’d be #1");
  assert.equal(joinLabel(11), "Join the waitlist — you’d be #12");
  assert.equal(joinLabel(null), "Join the waitlist");
});

test("a place in line reads naturally", () => {
  assert.equal(placeText(1), "You’re next in line.");
  assert.equal(placeText(4), "You’re #4 in line.");
  assert.equal(waitingText(0), "Nobody is waiting yet.");
  assert.equal(waitingText(1), "1 person is waiting.");
  assert.equal(waitingText(7), "7 people are waiting.");
});

test("the panel shows what the visitor can do", () => {
  const base = { signedIn: true, full: true, enrolled: false, place: null, lapsed: false };
  assert.equal(panelState(base), "join");
  assert.equal(panelState({ ...base, signedIn: false }), "signin");
  assert.equal(panelState({ ...base, full: false }), "hidden");
  assert.equal(panelState({ ...base, enrolled: true, place: { status: "offered" } }), "hidden");
  assert.equal(panelState({ ...base, place: { status: "waiting", position: 2 } }), "waiting");
  // An offer shows whatever the seat count says (the held seat is counted as taken).
  assert.equal(panelState({ ...base, place: { status: "offered" } }), "offered");
  assert.equal(panelState({ ...base, lapsed: true }), "lapsed");
  assert.equal(panelState({ ...base, lapsed: true, full: false }), "hidden");
});

test("the seats board labels", () => {
  assert.equal(seatsLabel(3, 10), "3 / 10");
  assert.equal(seatsLabel(3, null), "3 · unlimited");
  assert.equal(lineLabel(0, 0), "0 waiting");
  assert.equal(lineLabel(4, 1), "4 waiting · 1 offer held");
  assert.equal(lineLabel(4, 3), "4 waiting · 3 offers held");
});

test("the offer's time is said when known", () => {
  assert.equal(offerHint(15), "When a seat frees, it is held for you for 15 minutes and we email you.");
  assert.equal(offerHint(1), "When a seat frees, it is held for you for 1 minute and we email you.");
  assert.equal(offerHint(Number.NaN), "When a seat frees, it is held for you for a while and we email you.");
});
