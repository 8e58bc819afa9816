import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { durationToFill, formatBytes, formatSpeed, SpeedMeter, Upload, uploadErrorMessage } from "../upload.js";

// A controllable XMLHttpRequest: the test plays the network's part.
function fakeXhrFactory() {
  const made = [];
  class FakeXhr {
    constructor() {
      this.upload = {};
      this.headers = {};
      this.aborted = false;
      made.push(this);
    }
    open(method, url) {
      this.method = method;
      this.url = url;
    }
    setRequestHeader(name, value) {
      this.headers[name] = value;
    }
    send(body) {
      this.body = body;
    }
    abort() {
      this.aborted = true;
      this.onabort?.();
    }
    getResponseHeader() {
      return null;
    }
    // --- driven by the test ---
    progress(loaded, total) {
      this.upload.onprogress?.({ loaded, total, lengthComputable: true });
    }
    answer(status, body) {
      this.status = status;
      this.responseText = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
      this.onload?.();
    }
    drop() {
      this.onerror?.();
    }
  }
  return { factory: () => new FakeXhr(), made };
}

function clock() {
  const c = { t: 1000 };
  c.now = () => c.t;
  return c;
}

describe("formatting", () => {
  it("writes sizes and speeds for people", () => {
    assert.equal(formatBytes(512), "512 B");
    assert.equal(formatBytes(1536), "1.5 KB");
    assert.equal(formatBytes(5 * 1024 * 1024), "5.0 MB");
    assert.equal(formatBytes(250 * 1024 * 1024), "250 MB");
    assert.equal(formatBytes(99.99 * 1024), "100 KB");
    assert.equal(formatSpeed(2 * 1024 * 1024), "2.0 MB/s");
  });

  it("explains 413, 415, a dropped connection and a server failure", () => {
    assert.match(uploadErrorMessage({ status: 413, message: "The video is larger than the 100 bytes allowed." }), /^This file is too large\. The video is larger/);
    assert.match(uploadErrorMessage({ status: 415, message: "A lesson video must be one of video/mp4, video/webm, not image/png." }), /^This type of file is not accepted\. A lesson video must be/);
    assert.match(uploadErrorMessage({ status: 0 }), /connection dropped/);
    assert.match(uploadErrorMessage({ status: 502 }), /Retry/);
  });
});

describe("SpeedMeter", () => {
  it("measures bytes per second over the last window only", () => {
    const meter = new SpeedMeter(3000);
    assert.equal(meter.add(0, 0), 0);
    assert.equal(meter.add(1000, 1000), 1000);
    assert.equal(meter.add(2000, 2000), 1000);
    // The connection slows: the old fast samples leave the window.
    meter.add(3000, 2100);
    meter.add(4000, 2200);
    meter.add(5000, 2300);
    assert.ok(meter.add(6000, 2400) <= 150, "only the slow samples count");
  });
});

describe("Upload", () => {
  it("reports percent and speed, sends the CSRF token and ends with the server's answer", async () => {
    const { factory, made } = fakeXhrFactory();
    const time = clock();
    const seen = [];
    const upload = new Upload({
      url: "/api/lessons/7/media",
      form: () => "FORM",
      xhrFactory: factory,
      now: time.now,
      csrf: () => "tok",
      onChange: (u) => seen.push([u.state, Math.round(u.percent)]),
    });
    const done = upload.start();
    const xhr = made[0];
    assert.equal(xhr.method, "POST");
    assert.equal(xhr.url, "/api/lessons/7/media");
    assert.equal(xhr.headers["X-CSRFToken"], "tok");
    assert.equal(xhr.body, "FORM");
    assert.equal(upload.state, "uploading");

    xhr.progress(0, 4000);
    time.t += 1000;
    xhr.progress(1000, 4000);
    assert.equal(upload.percent, 25);
    assert.equal(upload.speed, 1000);
    time.t += 1000;
    xhr.progress(3000, 4000);
    assert.equal(upload.percent, 75);
    assert.equal(upload.speed, 1500);

    xhr.answer(201, { id: 7, media: { url: "/m/x.mp4" } });
    await done;
    assert.equal(upload.state, "done");
    assert.equal(upload.percent, 100);
    assert.deepEqual(upload.result, { id: 7, media: { url: "/m/x.mp4" } });
    assert.deepEqual(seen.at(-1), ["done", 100]);
    assert.deepEqual(seen[0], ["uploading", 0]);
  });

  it("cancels with abort and can start again", async () => {
    const { factory, made } = fakeXhrFactory();
    const upload = new Upload({ url: "/u", form: () => "F", xhrFactory: factory, csrf: () => "" });
    const first = upload.start();
    made[0].progress(500, 1000);
    upload.cancel();
    await first;
    assert.equal(made[0].aborted, true);
    assert.equal(upload.state, "cancelled");
    assert.equal(upload.retryable, true);

    const second = upload.retry();
    assert.equal(made.length, 2, "a new request, from the first byte");
    assert.equal(upload.percent, 0);
    made[1].answer(201, { ok: true });
    await second;
    assert.equal(upload.state, "done");
    assert.equal(upload.attempts, 2);
  });

  it("offers a retry after a dropped connection or a 5xx, and the retry can succeed", async () => {
    const { factory, made } = fakeXhrFactory();
    const upload = new Upload({ url: "/u", form: () => "F", xhrFactory: factory, csrf: () => "" });
    let attempt = upload.start();
    made[0].progress(100, 1000);
    made[0].drop();
    await attempt;
    assert.equal(upload.state, "error");
    assert.equal(upload.error.status, 0);
    assert.equal(upload.retryable, true);

    attempt = upload.retry();
    made[1].answer(503, "<html>busy</html>");
    await attempt;
    assert.equal(upload.state, "error");
    assert.equal(upload.error.status, 503);
    assert.equal(upload.retryable, true);

    attempt = upload.retry();
    made[2].answer(201, { id: 1 });
    await attempt;
    assert.equal(upload.state, "done");
    assert.equal(made.length, 3);
  });

  it("turns 413 and 415 into the contract's error, not retryable as is", async () => {
    for (const [status, code, message] of [
      [413, "payload_too_large", "The video is larger than the 1000 bytes allowed."],
      [415, "unsupported_media_type", "A lesson video must be one of video/mp4, video/webm, not text/plain."],
    ]) {
      const { factory, made } = fakeXhrFactory();
      const upload = new Upload({ url: "/u", form: () => "F", xhrFactory: factory, csrf: () => "" });
      const attempt = upload.start();
      made[0].answer(status, { error: { code, message, fields: { file: ["x"] } } });
      await attempt;
      assert.equal(upload.state, "error");
      assert.equal(upload.error.code, code);
      assert.equal(upload.error.message, message);
      assert.equal(upload.retryable, false);
      assert.ok(uploadErrorMessage(upload.error).endsWith(message));
    }
  });

  it("ignores events of an attempt that was cancelled", async () => {
    const { factory, made } = fakeXhrFactory();
    const upload = new Upload({ url: "/u", form: () => "F", xhrFactory: factory, csrf: () => "" });
    const first = upload.start();
    upload.cancel();
    await first;
    upload.retry();
    made[0].progress(999, 1000); // late event from the aborted request
    assert.equal(upload.loaded, 0);
    assert.equal(upload.state, "uploading");
  });
});

describe("durationToFill", () => {
  it("takes the video's length, rounded, when the lesson has none", () => {
    assert.equal(durationToFill(0, 12.4), 12);
    assert.equal(durationToFill("", 90.6), 91);
    assert.equal(durationToFill(0, 0.3), 1); // a short clip still lasts a second
  });
  it("keeps the instructor's own figure and ignores unknown lengths", () => {
    assert.equal(durationToFill(240, 12), null);
    assert.equal(durationToFill(0, Number.NaN), null);
    assert.equal(durationToFill(0, Number.POSITIVE_INFINITY), null); // a live stream
    assert.equal(durationToFill(0, 0), null);
  });
});
