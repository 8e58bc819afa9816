import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { MAX_SINGLE, mountInstructorNotices, noticeFor } from "../notices.js";
import { PortalSocket, SEQ_KEY_PREFIX } from "../socket.js";
import { fakeWebSocketClass, FakeTimers, MemoryStorage } from "./fakes.mjs";

const TEACHER = { id: 3, email: "grace@example.com", name: "Grace", instructor: true };
const COURSE = { id: 9, slug: "intro-to-python", title: "Intro to Python", seats_taken: 4, capacity: 30 };

function enrollment(id, { email = `s${id}@example.com`, name = "Ada Lovelace" } = {}) {
  return { id, number: `ENR-2026-${id}`, status: "active", course: COURSE, student: { id: 100 + id, email, name } };
}

function created(seq, id = seq) {
  return { type: "enrollment.created", seq, enrollment: enrollment(id), course: COURSE };
}

function completed(seq, id, student) {
  const body = { ...enrollment(id, student), status: "completed" };
  return { type: "enrollment.completed", seq, enrollment: body, certificate: { code: "ABCD", url: "/certificates/ABCD" } };
}

// A real PortalSocket over a fake WebSocket, with the notices mounted as app.js does.
function setup({ user = TEACHER, page = "home", stored } = {}) {
  const WS = fakeWebSocketClass();
  const timers = new FakeTimers();
  const storage = new MemoryStorage(stored === undefined ? {} : { [SEQ_KEY_PREFIX + user.id]: String(stored) });
  const socket = new PortalSocket({ url: "ws://portal.test/ws/", WebSocketImpl: WS, storage, timers, now: () => timers.now, onGap: () => {} });
  const toasts = [];
  mountInstructorNotices({ socket, user, page, notify: (message, options) => toasts.push({ message, ...options }) });
  socket.connect();
  const ws = () => WS.instances[WS.instances.length - 1];
  const hello = (seq) => {
    ws().open();
    ws().receive({ type: "hello", user: { id: user.id, email: user.email, name: user.name, roles: ["instructor"] }, seq });
  };
  return { socket, toasts, ws, hello, timers, storage };
}

describe("noticeFor", () => {
  it("words an enrollment and links the course's studio", () => {
    const notice = noticeFor(created(1), TEACHER);
    assert.equal(notice.message, "Ada Lovelace enrolled in Intro to Python.");
    assert.equal(notice.title, "New enrollment");
    assert.deepEqual(notice.link, { href: "/studio/courses/intro-to-python", text: "Open in studio" });
  });

  it("words someone else's completion, and is silent on the user's own", () => {
    assert.equal(noticeFor(completed(1, 5), TEACHER).message, "Ada Lovelace completed Intro to Python.");
    assert.equal(noticeFor(completed(1, 5, { email: "GRACE@example.com", name: "Grace" }), TEACHER), null);
  });

  it("ignores other events and malformed frames", () => {
    assert.equal(noticeFor({ type: "enrollment.status", seq: 1, enrollment: enrollment(1) }, TEACHER), null);
    assert.equal(noticeFor({ type: "enrollment.created", seq: 1 }, TEACHER), null);
    assert.equal(noticeFor({ type: "enrollment.created", seq: 1, enrollment: { id: 1 } }, TEACHER), null);
  });
});

describe("mountInstructorNotices", () => {
  it("toasts each live event once, even when it arrives again", () => {
    const { toasts, ws, hello } = setup();
    hello(10);
    ws().receive(created(11, 1));
    ws().receive(created(11, 1)); // the same frame twice (live and by a resume)
    ws().receive(completed(12, 1));
    assert.deepEqual(
      toasts.map((t) => [t.title, t.message, t.tone]),
      [
        ["New enrollment", "Ada Lovelace enrolled in Intro to Python.", "success"],
        ["Course completed", "Ada Lovelace completed Intro to Python.", "success"],
      ],
    );
  });

  it("links the course's studio, except on that very page", () => {
    const saved = globalThis.location;
    try {
      globalThis.location = { pathname: "/" };
      const home = setup();
      home.hello(10);
      home.ws().receive(created(11, 1));
      assert.deepEqual(home.toasts[0].link, { href: "/studio/courses/intro-to-python", text: "Open in studio" });

      globalThis.location = { pathname: "/studio/courses/intro-to-python" };
      const builder = setup();
      builder.hello(10);
      builder.ws().receive(created(11, 1));
      assert.equal(builder.toasts[0].message, "Ada Lovelace enrolled in Intro to Python.");
      assert.equal(builder.toasts[0].link, undefined);
    } finally {
      globalThis.location = saved;
    }
  });

  it("replays nothing the tab showed after a reconnect, and shows what it missed", () => {
    const { toasts, ws, hello, timers } = setup();
    hello(0);
    ws().receive(created(1));
    ws().drop();
    timers.advance(60_000); // the backoff's reconnect
    hello(2); // one event happened while offline
    assert.deepEqual(ws().frames("resume"), [{ type: "resume", after: 1 }]);
    ws().receive(created(1)); // a server replaying too much is still ignored
    ws().receive(created(2));
    ws().receive({ type: "resume.done", seq: 2 });
    assert.deepEqual(
      toasts.map((t) => t.message),
      ["Ada Lovelace enrolled in Intro to Python.", "Ada Lovelace enrolled in Intro to Python."],
    );
    assert.equal(toasts.length, 2);
  });

  it("a reload in the same tab resumes after the last seq shown: no replay", () => {
    const { toasts, ws, hello } = setup({ stored: 7 });
    hello(7);
    assert.deepEqual(ws().frames("resume"), []);
    assert.deepEqual(toasts, []);
  });

  it("sums up a long resume in one toast", () => {
    const { toasts, ws, hello } = setup({ stored: 0 });
    hello(MAX_SINGLE + 2);
    for (let seq = 1; seq <= MAX_SINGLE + 1; seq += 1) ws().receive(created(seq));
    ws().receive(completed(MAX_SINGLE + 2, 1));
    assert.deepEqual(toasts, []); // gathered until the resume is done
    ws().receive({ type: "resume.done", seq: MAX_SINGLE + 2 });
    assert.equal(toasts.length, 1);
    assert.equal(toasts[0].message, `While you were away: ${MAX_SINGLE + 1} new enrollments and 1 completion in your courses.`);
    assert.deepEqual(toasts[0].link, { href: "/instructor", text: "Open the dashboard" });
  });

  it("a short resume toasts each event", () => {
    const { toasts, ws, hello } = setup({ stored: 0 });
    hello(2);
    ws().receive(created(1));
    ws().receive(created(2));
    ws().receive({ type: "resume.done", seq: 2 });
    assert.equal(toasts.length, 2);
  });

  it("stays quiet on the instructor dashboard, which toasts from its own feed", () => {
    const { toasts, ws, hello } = setup({ page: "instructor" });
    hello(0);
    ws().receive(created(1));
    assert.deepEqual(toasts, []);
  });

  it("a student hears nothing of their own completion", () => {
    const student = { id: 8, email: "ada@example.com", name: "Ada", instructor: false };
    const { toasts, ws, hello } = setup({ user: student });
    hello(0);
    ws().receive(completed(1, 4, { email: "ada@example.com", name: "Ada" }));
    assert.deepEqual(toasts, []);
  });
});
