// Search hits carry `highlight.title` / `highlight.summary`: HTML-escaped text with only
// <mark>…</mark> around the matches. They are never assigned as HTML: the string is split
// into text and mark segments, entities are decoded, and the page builds text nodes and
// <mark> elements from them. Anything else that looks like markup stays visible text.

const MARK = /<(\/?)mark\s*>/gi;
const ENTITY = /&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});/g;
const NAMED = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

export function decodeEntities(text) {
  return String(text).replace(ENTITY, (whole, name) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
        return "\ufffd";
      }
      return String.fromCodePoint(code);
    }
    const value = NAMED[name.toLowerCase()];
    return value === undefined ? whole : value;
  });
}

// "a <mark>b</mark> c" → [{text: "a ", mark: false}, {text: "b", mark: true}, {text: " c", mark: false}]
export function parseHighlight(markup) {
  if (markup === null || markup === undefined) return [];
  const source = String(markup);
  const segments = [];
  let depth = 0;
  let last = 0;
  const push = (raw) => {
    if (!raw) return;
    const text = decodeEntities(raw);
    const mark = depth > 0;
    const previous = segments[segments.length - 1];
    if (previous && previous.mark === mark) previous.text += text;
    else segments.push({ text, mark });
  };
  for (const match of source.matchAll(MARK)) {
    push(source.slice(last, match.index));
    depth = match[1] ? Math.max(0, depth - 1) : depth + 1;
    last = match.index + match[0].length;
  }
  push(source.slice(last));
  return segments;
}

export function plainText(markup) {
  return parseHighlight(markup)
    .map((segment) => segment.text)
    .join("");
}

// A DocumentFragment of text nodes and <mark> elements (no HTML parsing at all).
export function renderHighlight(markup, fallback = "", doc = globalThis.document) {
  const fragment = doc.createDocumentFragment();
  const segments = markup ? parseHighlight(markup) : [{ text: String(fallback ?? ""), mark: false }];
  for (const { text, mark } of segments) {
    if (mark) {
      const element = doc.createElement("mark");
      element.textContent = text;
      fragment.append(element);
    } else {
      fragment.append(doc.createTextNode(text));
    }
  }
  return fragment;
}
