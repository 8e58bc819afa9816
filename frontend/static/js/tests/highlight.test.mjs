import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { decodeEntities, parseHighlight, plainText, renderHighlight } from "../highlight.js";

// Just enough of a document to see what renderHighlight builds (and that it never parses HTML).
function fakeDocument() {
  const make = (kind, extra = {}) => ({ kind, children: [], append(...nodes) { this.children.push(...nodes); }, ...extra });
  return {
    createDocumentFragment: () => make("fragment"),
    createElement: (tag) => {
      const element = make("element", { tag, textContent: "" });
      Object.defineProperty(element, "innerHTML", { set() { throw new Error("innerHTML used"); } });
      return element;
    },
    createTextNode: (text) => ({ kind: "text", text }),
  };
}

describe("highlight", () => {
  it("splits marked text into segments", () => {
    assert.deepEqual(parseHighlight("Intro to <mark>Pyth</mark>on basics"), [
      { text: "Intro to ", mark: false },
      { text: "Pyth", mark: true },
      { text: "on basics", mark: false },
    ]);
    assert.deepEqual(parseHighlight("<mark>a</mark><mark>b</mark>"), [{ text: "ab", mark: true }]);
    assert.deepEqual(parseHighlight(""), []);
    assert.deepEqual(parseHighlight(null), []);
  });

  it("decodes the escaped data, once", () => {
    assert.equal(plainText("C&amp;C &lt;b&gt; &quot;q&quot; &#39;s&#x27; &amp;lt;"), `C&C <b> "q" 's' &lt;`);
    assert.equal(decodeEntities("&unknown; &#0; &#xD800;"), "&unknown; \ufffd \ufffd");
  });

  it("keeps any markup other than <mark> as visible text", () => {
    const segments = parseHighlight('<img src=x onerror="alert(1)"><mark>py</mark><script>x</script>');
    assert.deepEqual(segments, [
      { text: '<img src=x onerror="alert(1)">', mark: false },
      { text: "py", mark: true },
      { text: "<script>x</script>", mark: false },
    ]);
    // Escaped markup inside a mark stays text too.
    assert.deepEqual(parseHighlight("<mark>&lt;script&gt;</mark>"), [{ text: "<script>", mark: true }]);
  });

  it("tolerates unbalanced marks", () => {
    assert.deepEqual(parseHighlight("a</mark>b<mark>c"), [
      { text: "ab", mark: false },
      { text: "c", mark: true },
    ]);
    assert.deepEqual(parseHighlight("<MARK>Go</MARK>lang"), [
      { text: "Go", mark: true },
      { text: "lang", mark: false },
    ]);
  });

  it("renders text nodes and <mark> elements, never HTML", () => {
    const doc = fakeDocument();
    const fragment = renderHighlight("<mark>Py</mark>thon &amp; <b>more</b>", "", doc);
    assert.deepEqual(
      fragment.children.map((n) => (n.kind === "text" ? ["text", n.text] : [n.tag, n.textContent])),
      [
        ["mark", "Py"],
        ["text", "thon & <b>more</b>"],
      ],
    );
  });

  it("falls back to the plain title when there is no highlight", () => {
    const doc = fakeDocument();
    const fragment = renderHighlight(undefined, "Plain <title>", doc);
    assert.deepEqual(fragment.children, [{ kind: "text", text: "Plain <title>" }]);
  });
});
