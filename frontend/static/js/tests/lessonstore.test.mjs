import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { LessonStore, rememberProgressEvent } from "../lessonstore.js";
import { MemoryStorage } from "./fakes.mjs";

describe("lesson store", () => {
  it("remembers positions and completion per lesson, per user and enrollment", () => {
    const storage = new MemoryStorage();
    const store = new LessonStore(1, 10, storage);
    assert.deepEqual(store.lesson(5), { completed: false, position: 0 });
    store.update(5, { position: 42.7 });
    store.update(5, { completed: true });
    assert.deepEqual(store.lesson(5), { completed: true, position: 42 });
    assert.deepEqual(new LessonStore(2, 10, storage).lesson(5), { completed: false, position: 0 });
  });

  it("resumes at the last lesson opened unless it is done, else the first not done", () => {
    const storage = new MemoryStorage();
    const store = new LessonStore(1, 10, storage);
    assert.equal(store.resumeLesson([5, 6, 7]), 5);
    store.visit(6);
    assert.equal(store.resumeLesson([5, 6, 7]), 6);
    store.update(6, { completed: true });
    store.update(5, { completed: true });
    assert.equal(store.resumeLesson([5, 6, 7]), 7);
    store.update(7, { completed: true });
    assert.equal(store.resumeLesson([5, 6, 7]), 6);
  });

  it("records progress.updated events from any tab", () => {
    const storage = new MemoryStorage();
    rememberProgressEvent(1, { type: "progress.updated", seq: 3, enrollment: 10, lesson: 5, completed: true, position_seconds: 30, percent: 50 }, storage);
    assert.deepEqual(new LessonStore(1, 10, storage).lesson(5), { completed: true, position: 30 });
  });

  it("survives unreadable storage", () => {
    const storage = new MemoryStorage({ "portal.lessons.1.10": "{oops" });
    assert.deepEqual(new LessonStore(1, 10, storage).read(), { last: null, lessons: {} });
    assert.deepEqual(new LessonStore(1, 10, null).lesson(1), { completed: false, position: 0 });
  });
});
