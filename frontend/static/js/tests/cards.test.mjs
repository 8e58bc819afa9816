import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { courseHref, ratingText, seatsLeft } from "../catalog.js";
import { coverSpec, hashString } from "../cover.js";
import { facetOptions } from "../facets.js";

describe("course cards", () => {
  it("shows a rating with one decimal, or none", () => {
    assert.equal(ratingText(4.7), "4.7");
    assert.equal(ratingText("4.70"), "4.7");
    assert.equal(ratingText(5), "5.0");
    assert.equal(ratingText(4.66), "4.7");
    assert.equal(ratingText(null), null);
    assert.equal(ratingText(undefined), null);
    assert.equal(ratingText("n/a"), null);
  });

  it("counts the seats left", () => {
    assert.deepEqual(seatsLeft({ capacity: null, seats_taken: 4 }), { text: "Open enrollment", tone: "open", left: null });
    assert.deepEqual(seatsLeft({ capacity: 30, seats_taken: 4 }), { text: "26 seats left", tone: "open", left: 26 });
    assert.deepEqual(seatsLeft({ capacity: 12, seats_taken: 11 }), { text: "1 seat left", tone: "few", left: 1 });
    assert.deepEqual(seatsLeft({ capacity: 12, seats_taken: 12 }), { text: "Full", tone: "full", left: 0 });
    assert.deepEqual(seatsLeft({ capacity: 12, seats_taken: 15 }), { text: "Full", tone: "full", left: 0 });
    assert.equal(courseHref("a b/c"), "/courses/a%20b%2Fc");
  });

  it("draws the same cover for the same slug, and different ones for others", () => {
    assert.equal(hashString("python"), hashString("python"));
    assert.notEqual(hashString("python"), hashString("pythom"));
    assert.deepEqual(coverSpec("intro-to-python"), coverSpec("intro-to-python"));
    const covers = new Set(["intro-to-python", "rust-systems", "go-microservices", "ml-basics", "k8s"].map((slug) => coverSpec(slug).from));
    assert.ok(covers.size >= 4, [...covers].join(" "));
    const spec = coverSpec("");
    assert.match(spec.from, /^hsl\(\d{1,3}, 68%, 52%\)$/);
    assert.match(spec.to, /^hsl\(\d{1,3}, 72%, 40%\)$/);
    assert.equal(spec.circles.length, 3);
    assert.match(spec.wave, /^M0 [\d.]+ C /);
  });
});

describe("facet options", () => {
  it("keeps every known value, at 0 when the answer has none (no stuck, emptied selects)", () => {
    const known = ["Data Science", "Programming", "DevOps"];
    assert.deepEqual(
      facetOptions({}, "", undefined, known).map((o) => o.text),
      ["Data Science (0)", "Programming (0)", "DevOps (0)"],
    );
    assert.deepEqual(
      facetOptions({ Programming: 2, Design: 1 }, "", undefined, known).map((o) => [o.value, o.count]),
      [
        ["Data Science", 0],
        ["Programming", 2],
        ["DevOps", 0],
        ["Design", 1],
      ],
    );
  });

  it("always lists the selected value", () => {
    const options = facetOptions({ beginner: 3 }, "advanced", (value) => value.toUpperCase());
    assert.deepEqual(
      options.map((o) => o.text),
      ["BEGINNER (3)", "ADVANCED (0)"],
    );
    assert.deepEqual(facetOptions(undefined, "").length, 0);
  });
});
