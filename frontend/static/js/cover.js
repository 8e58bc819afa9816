// A course card's cover: placeholder art drawn from the course's slug, the same slug always
// giving the same picture. An inline SVG (a two-colour gradient, a few soft circles and a
// wave): no image request, no third-party asset, and no inline style (colours are SVG
// presentation attributes, which the page's style-src policy allows). Decorative only:
// hidden from assistive technology.

const SVG = "http://www.w3.org/2000/svg";
export const COVER_WIDTH = 320;
export const COVER_HEIGHT = 112;

// FNV-1a over the UTF-16 code units: a stable 32-bit number for a string.
export function hashString(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

// mulberry32: a small seeded generator, so every number of the picture follows the slug.
function generator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round = (value) => Math.round(value * 10) / 10;

// The picture of a slug as numbers and colours (the Node tests check it is stable).
export function coverSpec(slug) {
  const random = generator(hashString(String(slug ?? "")));
  const hue = Math.floor(random() * 360);
  const shift = 35 + Math.floor(random() * 50);
  const from = `hsl(${hue}, 68%, 52%)`;
  const to = `hsl(${(hue + shift) % 360}, 72%, 40%)`;
  const angle = Math.floor(random() * 4) * 45; // 0, 45, 90 or 135 degrees
  const circles = Array.from({ length: 3 }, () => ({
    cx: round(random() * COVER_WIDTH),
    cy: round(random() * COVER_HEIGHT),
    r: round(18 + random() * 46),
    opacity: round(0.1 + random() * 0.18),
  }));
  const crest = round(COVER_HEIGHT * (0.45 + random() * 0.25));
  const wave =
    `M0 ${crest} C ${round(COVER_WIDTH * 0.3)} ${round(crest - 28)}, ` +
    `${round(COVER_WIDTH * 0.6)} ${round(crest + 30)}, ${COVER_WIDTH} ${round(crest - 6)} ` +
    `L ${COVER_WIDTH} ${COVER_HEIGHT} L 0 ${COVER_HEIGHT} Z`;
  return { from, to, angle, circles, wave };
}

let covers = 0;

function svg(doc, tag, attrs) {
  const element = doc.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  return element;
}

export function courseCover(slug, doc = globalThis.document) {
  const spec = coverSpec(slug);
  covers += 1;
  const id = `cover-gradient-${covers}`;
  const root = svg(doc, "svg", {
    class: "course-cover",
    viewBox: `0 0 ${COVER_WIDTH} ${COVER_HEIGHT}`,
    preserveAspectRatio: "xMidYMid slice",
    "aria-hidden": "true",
    focusable: "false",
  });
  const radians = (spec.angle * Math.PI) / 180;
  const gradient = svg(doc, "linearGradient", {
    id,
    x1: round(0.5 - Math.cos(radians) / 2),
    y1: round(0.5 - Math.sin(radians) / 2),
    x2: round(0.5 + Math.cos(radians) / 2),
    y2: round(0.5 + Math.sin(radians) / 2),
  });
  gradient.append(svg(doc, "stop", { offset: "0", "stop-color": spec.from }), svg(doc, "stop", { offset: "1", "stop-color": spec.to }));
  const defs = svg(doc, "defs", {});
  defs.append(gradient);
  root.append(defs, svg(doc, "rect", { width: COVER_WIDTH, height: COVER_HEIGHT, fill: `url(#${id})` }));
  for (const circle of spec.circles) {
    root.append(svg(doc, "circle", { cx: circle.cx, cy: circle.cy, r: circle.r, fill: "#ffffff", "fill-opacity": circle.opacity }));
  }
  root.append(svg(doc, "path", { d: spec.wave, fill: "#000000", "fill-opacity": 0.12 }));
  return root;
}
