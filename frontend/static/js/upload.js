// A file upload over XMLHttpRequest, which (unlike fetch) reports the upload's progress:
// percent and speed (bytes/s over the last few seconds), Cancel (abort) and Retry (the
// same form sent again from the start: the server keeps nothing of a broken upload).
// 413 and 415 answers carry the contract's error shape; their message says what to change.

import { ApiError, csrfToken, errorFromBody } from "./api.js";

// Speed is measured over this window: long enough to smooth bursts, short enough to follow
// a connection that slows down.
export const SPEED_WINDOW_MS = 3000;

export function formatBytes(bytes) {
  const value = Math.max(0, Number(bytes) || 0);
  if (value < 1024) return `${Math.round(value)} B`;
  const units = ["KB", "MB", "GB"];
  let scaled = value;
  let unit = "B";
  for (const next of units) {
    if (scaled < 1024) break;
    scaled /= 1024;
    unit = next;
  }
  const text = scaled.toFixed(1);
  return `${Number(text) >= 100 ? Math.round(scaled) : text} ${unit}`;
}

// The lesson's duration read from its uploaded video, in whole seconds, when the instructor
// has not given one (0); null when there is nothing to fill in.
export function durationToFill(currentSeconds, mediaSeconds) {
  if (Number(currentSeconds) > 0 || !Number.isFinite(mediaSeconds) || mediaSeconds <= 0) return null;
  return Math.max(1, Math.round(mediaSeconds));
}

export function formatSpeed(bytesPerSecond) {
  return `${formatBytes(bytesPerSecond)}/s`;
}

// What the person can do about a refused or broken upload.
export function uploadErrorMessage(error) {
  const said = error?.message ? ` ${error.message}` : "";
  if (error?.status === 413) return `This file is too large.${said}`;
  if (error?.status === 415) return `This type of file is not accepted.${said}`;
  if (error?.status === 0) return "The connection dropped during the upload. Check your connection, then retry.";
  if (error?.status >= 500) return "The server could not store the file. Retry in a moment.";
  return error?.message || "The upload failed.";
}

// Bytes per second over the samples of the last `window` ms (progress events come many
// times a second; the first sample of the window is the reference).
export class SpeedMeter {
  constructor(window = SPEED_WINDOW_MS) {
    this.window = window;
    this.samples = [];
  }

  add(time, loaded) {
    this.samples.push({ time, loaded });
    while (this.samples.length > 2 && time - this.samples[1].time >= this.window) this.samples.shift();
    return this.speed();
  }

  speed() {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const elapsed = last.time - first.time;
    return elapsed > 0 ? ((last.loaded - first.loaded) * 1000) / elapsed : 0;
  }

  reset() {
    this.samples = [];
  }
}

function parseBody(xhr) {
  const text = typeof xhr.responseText === "string" ? xhr.responseText : "";
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// states: idle → uploading → done | error | cancelled; retry() (from error or cancelled)
// starts again. `form()` builds a fresh FormData for every attempt.
export class Upload {
  constructor({ url, form, method = "POST", xhrFactory = () => new XMLHttpRequest(), now = () => Date.now(), csrf = () => csrfToken(), onChange = () => {} }) {
    this.url = url;
    this.form = form;
    this.method = method;
    this.xhrFactory = xhrFactory;
    this.now = now;
    this.csrf = csrf;
    this.onChange = onChange;
    this.state = "idle";
    this.loaded = 0;
    this.total = 0;
    this.speed = 0;
    this.error = null;
    this.result = null;
    this.attempts = 0;
    this.xhr = null;
    this.meter = new SpeedMeter();
  }

  get percent() {
    if (this.state === "done") return 100;
    return this.total > 0 ? Math.min(100, (this.loaded / this.total) * 100) : 0;
  }

  // A dropped connection, a timeout or a server failure may work the second time.
  get retryable() {
    return this.state === "cancelled" || (this.state === "error" && (this.error?.retryable ?? false));
  }

  #set(state) {
    this.state = state;
    this.onChange(this);
  }

  start() {
    if (this.state === "uploading") return this.promise;
    this.attempts += 1;
    this.loaded = 0;
    this.total = 0;
    this.speed = 0;
    this.error = null;
    this.result = null;
    this.meter.reset();
    const xhr = this.xhrFactory();
    this.xhr = xhr;
    this.promise = new Promise((resolve) => {
      // Settles with the upload itself (never rejects): callers read state/error/result.
      const settle = (state) => {
        if (this.xhr !== xhr) return; // an attempt that was replaced
        this.xhr = null;
        this.#set(state);
        resolve(this);
      };
      xhr.upload.onprogress = (event) => {
        if (this.xhr !== xhr) return;
        this.loaded = event.loaded;
        if (event.lengthComputable) this.total = event.total;
        this.speed = this.meter.add(this.now(), event.loaded);
        this.onChange(this);
      };
      xhr.onload = () => {
        const body = parseBody(xhr);
        if (xhr.status >= 200 && xhr.status < 300) {
          this.result = body;
          this.loaded = this.total;
          settle("done");
        } else {
          this.error = errorFromBody(xhr.status, body, xhr.getResponseHeader?.("Retry-After") ?? null);
          settle("error");
        }
      };
      const dropped = () => {
        this.error = new ApiError(0, { code: "network", message: "The connection dropped during the upload." });
        settle("error");
      };
      xhr.onerror = dropped;
      xhr.ontimeout = dropped;
      xhr.onabort = () => settle("cancelled");
      xhr.open(this.method, this.url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", this.csrf());
      this.#set("uploading");
      xhr.send(this.form());
    });
    return this.promise;
  }

  cancel() {
    if (this.state !== "uploading" || !this.xhr) return;
    this.xhr.abort();
  }

  retry() {
    if (this.state === "uploading" || this.state === "done") return this.promise;
    return this.start();
  }
}
