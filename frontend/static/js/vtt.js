// WebVTT captions as a transcript: the cues of a .vtt file (start, end, plain text) and
// which cue is playing at a given time. Cue text is kept as text: markup (<v Speaker>,
// <i>, <c.class>, timestamps) is dropped and entities decoded, never turned into HTML.

const TIMING = /^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})\s+-->\s+(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})/;
const ENTITIES = { amp: "&", lt: "<", gt: ">", nbsp: "\u00a0", quot: '"', apos: "'", lrm: "\u200e", rlm: "\u200f" };

function seconds(hours, minutes, secs, millis) {
  return Number(hours ?? 0) * 3600 + Number(minutes) * 60 + Number(secs) + Number(millis) / 1000;
}

export function cueText(raw) {
  return raw
    .replace(/<[^>]*>/g, "")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name) => {
      if (name[0] === "#") {
        const code = name[1].toLowerCase() === "x" ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    })
    .replace(/[ \t]+/g, " ")
    .trim();
}

// [{start, end, text}] in file order; [] for anything that is not WebVTT.
export function parseVtt(source) {
  const text = String(source ?? "").replace(/^\ufeff/, "").replace(/\r\n?/g, "\n");
  if (!/^WEBVTT(?:[ \t]|$)/.test(text.split("\n", 1)[0])) return [];
  const cues = [];
  for (const block of text.split(/\n{2,}/).slice(1)) {
    const lines = block.split("\n").filter((line, index) => index > 0 || line.trim() !== "");
    if (!lines.length || /^(NOTE|STYLE|REGION)(?:[ \t]|$)/.test(lines[0])) continue;
    // An optional identifier line comes before the timing line.
    const timingAt = TIMING.test(lines[0]) ? 0 : TIMING.test(lines[1] ?? "") ? 1 : -1;
    if (timingAt < 0) continue;
    const m = lines[timingAt].match(TIMING);
    const start = seconds(m[1], m[2], m[3], m[4]);
    const end = seconds(m[5], m[6], m[7], m[8]);
    const body = cueText(lines.slice(timingAt + 1).join(" "));
    if (end <= start || !body) continue;
    cues.push({ start, end, text: body });
  }
  return cues;
}

// The index of the cue playing at `time` (the latest one that started, while it lasts),
// or -1. Cues are in start order; overlapping cues resolve to the later one.
export function cueIndexAt(cues, time) {
  let low = 0;
  let high = cues.length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (cues[mid].start <= time) {
      found = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found >= 0 && time < cues[found].end ? found : -1;
}
