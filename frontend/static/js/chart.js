// Enrollments per hour as an inline SVG bar chart (no chart library). The bucketing is a
// pure function; the drawing builds SVG nodes (no markup strings, no inline styles).

const HOUR = 3600_000;
const SVG = "http://www.w3.org/2000/svg";

// `hours` one-hour buckets ending with the current hour: [{start: ms, count}], oldest first.
export function hourlyBuckets(timestamps, { now = Date.now(), hours = 24 } = {}) {
  const end = Math.floor(now / HOUR) * HOUR + HOUR; // end of the current hour
  const first = end - hours * HOUR;
  const buckets = Array.from({ length: hours }, (_, i) => ({ start: first + i * HOUR, count: 0 }));
  for (const value of timestamps) {
    const time = value instanceof Date ? value.getTime() : new Date(value).getTime();
    if (!Number.isFinite(time) || time < first || time >= end) continue;
    buckets[Math.floor((time - first) / HOUR)].count += 1;
  }
  return buckets;
}

// The aggregate endpoint's answer (GET /api/instructor/enrollments-per-hour) as buckets:
// [{start: ms, count}], oldest first. The server counted them; nothing is paged here.
export function bucketsFromAnswer(answer) {
  return (answer?.buckets ?? [])
    .map((bucket) => ({ start: new Date(bucket.hour).getTime(), count: Number(bucket.count) || 0 }))
    .filter((bucket) => Number.isFinite(bucket.start));
}

// One more enrollment at `time` (none when it is not a date): counted in its hour's bucket; a new hour slides the window
// (the oldest bucket goes, an empty one for the new hour comes). Returns the buckets.
export function bucketsAdd(buckets, time, { now = Date.now() } = {}) {
  if (!buckets.length) return buckets;
  const current = Math.floor(now / HOUR) * HOUR;
  while (buckets[buckets.length - 1].start < current) {
    buckets.push({ start: buckets[buckets.length - 1].start + HOUR, count: 0 });
    buckets.shift();
  }
  const at = time instanceof Date ? time.getTime() : new Date(time).getTime();
  if (!Number.isFinite(at)) return buckets;
  const hour = Math.floor(at / HOUR) * HOUR;
  const bucket = buckets.find((b) => b.start === hour);
  if (bucket) bucket.count += 1;
  return buckets;
}

// A round axis maximum ≥ the largest count (1, 2, 5, 10, 20, 50, …).
export function niceMax(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function hourLabel(ms) {
  const date = new Date(ms);
  return `${String(date.getHours()).padStart(2, "0")}:00`;
}

export function chartSummary(buckets) {
  const total = buckets.reduce((n, b) => n + b.count, 0);
  if (!total) return `No enrollments in the last ${buckets.length} hours.`;
  const peak = buckets.reduce((best, b) => (b.count > best.count ? b : best), buckets[0]);
  return `${total} enrollment${total === 1 ? "" : "s"} in the last ${buckets.length} hours; busiest hour ${hourLabel(peak.start)} with ${peak.count}.`;
}

function node(name, attrs = {}, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

export function renderBarChart(container, buckets, { width = container.clientWidth || 600, height = 220 } = {}) {
  const pad = { top: 14, right: 8, bottom: 28, left: 30 };
  const innerW = Math.max(10, width - pad.left - pad.right);
  const innerH = height - pad.top - pad.bottom;
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.count)));
  const slot = innerW / buckets.length;
  const barW = Math.max(2, slot * 0.7);
  const summary = chartSummary(buckets);

  const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": `Enrollments per hour. ${summary}`, class: "chart-svg" });
  const grid = node("g", { class: "chart-grid" });
  for (const value of [0, max / 2, max]) {
    const y = pad.top + innerH - (value / max) * innerH;
    grid.append(node("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y }));
    if (Number.isInteger(value)) grid.append(node("text", { x: pad.left - 6, y: y + 4, "text-anchor": "end", class: "chart-axis" }, String(value)));
  }
  svg.append(grid);

  const bars = node("g", { class: "chart-bars" });
  const labelEvery = slot < 22 ? 6 : slot < 40 ? 3 : 1;
  buckets.forEach((bucket, i) => {
    const x = pad.left + i * slot + (slot - barW) / 2;
    const h = (bucket.count / max) * innerH;
    const y = pad.top + innerH - h;
    const rect = node("rect", { x, y, width: barW, height: Math.max(bucket.count ? 2 : 0, h), rx: Math.min(3, barW / 3), class: bucket.count ? "bar" : "bar empty" });
    rect.append(node("title", {}, `${hourLabel(bucket.start)}–${hourLabel(bucket.start + HOUR)}: ${bucket.count} enrollment${bucket.count === 1 ? "" : "s"}`));
    bars.append(rect);
    if ((buckets.length - 1 - i) % labelEvery === 0) {
      // Labels near the edges are anchored inside the drawing so they are never cut.
      const center = x + barW / 2;
      const anchor = center > width - 20 ? "end" : center < pad.left + 16 ? "start" : "middle";
      const labelX = anchor === "end" ? width - 2 : anchor === "start" ? pad.left : center;
      bars.append(node("text", { x: labelX, y: height - 8, "text-anchor": anchor, class: "chart-axis" }, hourLabel(bucket.start)));
    }
  });
  svg.append(bars);
  container.replaceChildren(svg);
  return svg;
}
