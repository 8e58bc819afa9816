import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { applyEvent, dashboardStats, progressText, sectionOf, shown } from "../dashboard.js";

const enrollment = (id, status, progress = { completed_lessons: 0, total_lessons: 4, percent: 0 }, extra = {}) => ({
  id,
  status,
  progress,
  course: { title: `Course ${id}`, slug: `course-${id}` },
  certificate: null,
  ...extra,
});

function state(...items) {
  return new Map(items.map((item) => [item.id, item]));
}

describe("applyEvent (the dashboard's reducer)", () => {
  it("moves an enrollment to the Completed tab on enrollment.completed", () => {
    const enrollments = state(enrollment(2, "active"), enrollment(1, "active"));
    const done = enrollment(1, "completed", { completed_lessons: 4, total_lessons: 4, percent: 100 }, { certificate: { code: "AAAA-BBBB-CCCC-DDDD", url: "/certificates/AAAA-BBBB-CCCC-DDDD" } });

    const change = applyEvent(enrollments, { type: "enrollment.completed", seq: 9, enrollment: done, certificate: done.certificate });

    assert.deepEqual(change, { id: 1, kind: "changed" });
    assert.equal(sectionOf(enrollments.get(1)), "completed");
    assert.equal(enrollments.get(1).certificate.url, "/certificates/AAAA-BBBB-CCCC-DDDD");
    assert.deepEqual([...enrollments.keys()], [2, 1]); // order kept
    // The same event again (a resume, the enrollment.status beside it) changes nothing more.
    applyEvent(enrollments, { type: "enrollment.status", seq: 8, enrollment: done });
    assert.deepEqual(enrollments.get(1), done);
  });

  it("puts an enrollment it did not know first", () => {
    const enrollments = state(enrollment(1, "active"));
    assert.deepEqual(applyEvent(enrollments, { type: "enrollment.status", enrollment: enrollment(5, "pending") }), { id: 5, kind: "added" });
    assert.deepEqual([...enrollments.keys()], [5, 1]);
  });

  it("applies progress without moving a completed enrollment out of its tab", () => {
    const enrollments = state(enrollment(1, "completed", { completed_lessons: 4, total_lessons: 4, percent: 100 }));
    const progress = { completed_lessons: 4, total_lessons: 5, percent: 80 };
    const change = applyEvent(enrollments, { type: "progress.updated", enrollment: 1, lesson: 7, completed: false, percent: 80, progress });
    assert.deepEqual(change, { id: 1, kind: "progress" });
    assert.deepEqual(enrollments.get(1).progress, progress);
    assert.equal(sectionOf(enrollments.get(1)), "completed");
    assert.equal(progressText(enrollments.get(1).progress), "4 of 5 lessons · 80%");
  });

  it("ignores events about enrollments it does not list, and other types", () => {
    const enrollments = state(enrollment(1, "active"));
    assert.equal(applyEvent(enrollments, { type: "progress.updated", enrollment: 99, progress: {} }), null);
    assert.equal(applyEvent(enrollments, { type: "enrollment.created", enrollment: enrollment(3, "active") }), null);
    assert.equal(applyEvent(enrollments, { type: "enrollment.completed", enrollment: null }), null);
    assert.deepEqual([...enrollments.keys()], [1]);
  });
});

describe("dashboardStats", () => {
  it("counts live courses, completions and lessons done", () => {
    const enrollments = state(
      enrollment(1, "completed", { completed_lessons: 4, total_lessons: 5, percent: 80 }),
      enrollment(2, "active", { completed_lessons: 1, total_lessons: 4, percent: 25 }),
      enrollment(3, "cancelled", { completed_lessons: 2, total_lessons: 4, percent: 50 }),
    );
    assert.deepEqual(dashboardStats(enrollments), { courses: 2, completed: 1, lessons: 5 });
    assert.deepEqual(["completed", "learning", "learning"], [...enrollments.values()].map(sectionOf));
  });
});

describe("shown (what the dashboard lists)", () => {
  it("leaves out a checkout whose card was declined, and nothing else", () => {
    const declined = { ...enrollment(4, "cancelled"), payment: { status: "failed", amount: "49.00", currency: "usd" } };
    const refunded = { ...enrollment(5, "refunded"), payment: { status: "refunded", amount: "49.00", currency: "usd" } };
    const left = { ...enrollment(6, "cancelled"), payment: null };
    const pending = { ...enrollment(7, "pending"), payment: { status: "requires_action", amount: "49.00", currency: "usd" } };
    assert.deepEqual([declined, refunded, left, pending].map(shown), [false, true, true, true]);
  });
});
