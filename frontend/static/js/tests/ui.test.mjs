import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { minutesLabel, safeNext } from "../ui.js";

// What a browser makes of a path handed to location.assign(): the WHATWG URL parser drops
// tab, CR and LF anywhere and C0 controls or spaces at the ends.
function resolved(path) {
  return new URL(path, "https://portal.example/signin");
}

describe("safeNext", () => {
  it("keeps paths on this site", () => {
    assert.equal(safeNext("/courses/intro?tab=outline#m2"), "/courses/intro?tab=outline#m2");
    assert.equal(safeNext("/learn/3/4"), "/learn/3/4");
  });

  it("falls back for anything that is not a local path", () => {
    for (const value of [null, undefined, 42, "", "dashboard", "https://evil.example/", "javascript:alert(1)", "//evil.example", "/\\evil.example"]) {
      assert.equal(safeNext(value), "/dashboard", String(value));
    }
    assert.equal(safeNext("//evil.example", "/"), "/");
  });

  it("refuses paths that become another host once the browser drops tab, CR or LF", () => {
    const sneaky = [
      "/\t/evil.example/phish",
      "/\n/evil.example/phish",
      "/\r\n/evil.example",
      "\t//evil.example",
      " //evil.example",
      "/\t\\evil.example",
      "\x00//evil.example",
    ];
    for (const value of sneaky) {
      // The browser really would leave the site with it...
      assert.notEqual(resolved(value).host, "portal.example", JSON.stringify(value));
      // ...so safeNext does not hand it back.
      assert.equal(safeNext(value), "/dashboard", JSON.stringify(value));
    }
  });

  it("returns the cleaned path, which stays on the site", () => {
    assert.equal(safeNext("/dash\tboard"), "/dashboard");
    assert.equal(resolved(safeNext("/courses/\nintro")).host, "portal.example");
  });
});

describe("minutesLabel", () => {
  it("gives short clips in seconds, not 0 min", () => {
    assert.equal(minutesLabel(12), "12 s");
    assert.equal(minutesLabel(0), "0 min");
    assert.equal(minutesLabel(600), "10 min");
    assert.equal(minutesLabel(3900), "1 h 5 min");
  });
});
