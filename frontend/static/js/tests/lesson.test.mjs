import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { fileSize, flattenLessons, progressLabel } from "../lesson.js";
import { pickCaption, resumeAt, watchedEnough } from "../videoplayer.js";

describe("lesson page helpers", () => {
  it("flattens the outline in module order with each lesson's module", () => {
    const course = {
      modules: [
        { title: "Basics", position: 1, lessons: [{ id: 1, kind: "text" }, { id: 2, kind: "video", preview: true }] },
        { title: "Next", position: 2, lessons: [{ id: 3, kind: "text" }] },
      ],
    };
    assert.deepEqual(
      flattenLessons(course).map((l) => [l.id, l.module, l.kind]),
      [
        [1, "Basics", "text"],
        [2, "Basics", "video"],
        [3, "Next", "text"],
      ],
    );
    assert.deepEqual(flattenLessons({}), []);
  });

  it("labels progress and file sizes", () => {
    assert.equal(progressLabel({ completed_lessons: 1, total_lessons: 4, percent: 25 }), "1 of 4 lessons · 25%");
    assert.equal(progressLabel(null), "");
    assert.equal(fileSize(512), "512 B");
    assert.equal(fileSize(1536), "1.5 KB");
    assert.equal(fileSize(501338), "490 KB");
    assert.equal(fileSize(5 * 1024 * 1024), "5 MB");
    assert.equal(fileSize(-1), "");
    assert.equal(fileSize("x"), "");
  });
});

describe("video lessons", () => {
  it("count as watched from 90 % on, never without a known length", () => {
    assert.equal(watchedEnough(89.9, 100), false);
    assert.equal(watchedEnough(90, 100), true);
    assert.equal(watchedEnough(10, Number.NaN), false);
    assert.equal(watchedEnough(10, Number.POSITIVE_INFINITY), false);
    assert.equal(watchedEnough(0, 0), false);
  });

  it("resume from the saved position unless it is the end", () => {
    assert.equal(resumeAt(42, 100), 42);
    assert.equal(resumeAt(0, 100), 0);
    assert.equal(resumeAt(98, 100), 0);
    assert.equal(resumeAt(42, Number.NaN), 42);
    assert.equal(resumeAt(Number.NaN, 100), 0);
  });

  it("show the captions of the page's language, else the first", () => {
    const captions = [
      { lang: "fr", label: "Français", url: "/fr.vtt" },
      { lang: "en-GB", label: "English", url: "/en.vtt" },
    ];
    assert.equal(pickCaption(captions, "en").url, "/en.vtt");
    assert.equal(pickCaption(captions, "de").url, "/fr.vtt");
    assert.equal(pickCaption([], "en"), null);
    assert.equal(pickCaption(null, "en"), null);
  });
});
