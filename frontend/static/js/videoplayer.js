// A video lesson in the browser's own <video>: WebVTT captions as <track>s, a transcript
// built from the captions (each line a button that seeks; the line playing is marked),
// playback speed, resume from a position, and a signal once ~90 % has been watched.
// Media links are signed and expire: a link that stops working is fetched again.

import { duration, h } from "./ui.js";
import { cueIndexAt, parseVtt } from "./vtt.js";

export const WATCHED_SHARE = 0.9;
const SPEED_KEY = "portal.playback-rate";
const SPEEDS = [0.75, 1, 1.25, 1.5, 1.75, 2];

// Enough of the video has been seen to count the lesson as done.
export function watchedEnough(time, length, share = WATCHED_SHARE) {
  return Number.isFinite(length) && length > 0 && time >= share * length;
}

// The caption track to show (and transcribe): the page's language, else the first.
export function pickCaption(captions, lang = "en") {
  if (!captions?.length) return null;
  const base = (tag) => String(tag || "").toLowerCase().split("-")[0];
  return captions.find((c) => base(c.lang) === base(lang)) ?? captions[0];
}

// Where to start: the saved position, unless it is (nearly) the end.
export function resumeAt(position, length) {
  if (!Number.isFinite(position) || position <= 0) return 0;
  if (Number.isFinite(length) && length > 0 && position >= length - 3) return 0;
  return position;
}

function storedSpeed(storage) {
  try {
    const value = Number(storage?.getItem(SPEED_KEY));
    return SPEEDS.includes(value) ? value : 1;
  } catch {
    return 1;
  }
}

function crossOrigin(url) {
  try {
    return new URL(url, location.href).origin !== location.origin;
  } catch {
    return false;
  }
}

export function mountVideo({
  video,
  speed,
  transcriptSection,
  transcriptList,
  transcriptLang,
  media,
  startAt = 0,
  onTime = () => {},
  onWatched = () => {},
  onPause = () => {},
  refreshMedia = null,
  storage = globalThis.localStorage,
}) {
  let cues = [];
  let items = [];
  let current = -1;
  let watched = false;
  let lastRefresh = 0;
  let pendingSeek = null;

  function setSources(source) {
    // Another origin (S3): captions must be fetched with CORS to be used at all.
    if (crossOrigin(source.url)) video.crossOrigin = "anonymous";
    video.replaceChildren();
    const shown = pickCaption(source.captions, document.documentElement.lang);
    for (const caption of source.captions ?? []) {
      const track = h("track", { kind: "captions", src: caption.url, srclang: caption.lang, label: caption.label });
      if (caption === shown) track.default = true;
      video.append(track);
    }
    video.src = source.url;
    return shown;
  }

  function renderTranscript() {
    items = cues.map((cue, index) =>
      h(
        "li",
        { dataset: { cue: String(index) } },
        h(
          "button",
          { type: "button", class: "cue", dataset: { start: String(cue.start) } },
          h("span", { class: "cue-time" }, duration(Math.floor(cue.start))),
          h("span", { class: "cue-text" }, cue.text),
        ),
      ),
    );
    transcriptList.replaceChildren(...items);
    transcriptSection.hidden = !items.length;
  }

  function highlight(time) {
    const index = cueIndexAt(cues, time);
    if (index === current) return;
    items[current]?.removeAttribute("aria-current");
    items[current]?.classList.remove("active");
    current = index;
    const item = items[index];
    if (!item) return;
    item.setAttribute("aria-current", "true");
    item.classList.add("active");
    // Keep the line in view inside the transcript's own scroll box, never the page.
    const box = transcriptList;
    if (item.offsetTop < box.scrollTop || item.offsetTop + item.offsetHeight > box.scrollTop + box.clientHeight) {
      box.scrollTop = Math.max(0, item.offsetTop - box.clientHeight / 3);
    }
  }

  async function loadTranscript(caption) {
    if (!caption) return;
    transcriptLang.textContent = caption.label || caption.lang || "";
    try {
      const response = await fetch(caption.url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      cues = parseVtt(await response.text());
    } catch {
      cues = [];
    }
    renderTranscript();
    highlight(video.currentTime);
  }

  transcriptList.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-start]");
    if (!button) return;
    // Just past the line's start: at the very start the line before (ending there) is
    // still shown by the browser's captions too.
    video.currentTime = Number(button.dataset.start) + 0.01;
    highlight(video.currentTime);
    video.play().catch(() => {});
  });

  const rate = storedSpeed(storage);
  speed.value = String(rate);
  video.playbackRate = rate;
  video.defaultPlaybackRate = rate;
  speed.addEventListener("change", () => {
    const value = Number(speed.value);
    video.playbackRate = value;
    video.defaultPlaybackRate = value;
    try {
      storage?.setItem(SPEED_KEY, String(value));
    } catch {
      /* storage disabled */
    }
  });

  video.addEventListener("loadedmetadata", () => {
    const target = pendingSeek ?? resumeAt(startAt, video.duration);
    pendingSeek = null;
    if (target > 0) video.currentTime = target;
    video.playbackRate = Number(speed.value);
  });
  video.addEventListener("timeupdate", () => {
    highlight(video.currentTime);
    onTime(video.currentTime, video.duration, { seeking: false });
    if (!watched && watchedEnough(video.currentTime, video.duration)) {
      watched = true;
      onWatched();
    }
  });
  video.addEventListener("seeked", () => onTime(video.currentTime, video.duration, { seeking: true }));
  video.addEventListener("pause", () => onPause(video.currentTime));
  video.addEventListener("ended", () => onPause(video.currentTime));
  video.addEventListener("error", async () => {
    // The signed link expired (or the network blinked): a fresh one, from where we were.
    if (!refreshMedia || Date.now() - lastRefresh < 30_000) return;
    lastRefresh = Date.now();
    const at = video.currentTime;
    try {
      const fresh = await refreshMedia();
      if (!fresh?.url) return;
      pendingSeek = at;
      setSources(fresh);
    } catch {
      /* offline: the browser's own error stays shown */
    }
  });

  const shown = setSources(media);
  loadTranscript(shown);

  return {
    get cues() {
      return cues;
    },
    markWatched() {
      watched = true;
    },
  };
}
