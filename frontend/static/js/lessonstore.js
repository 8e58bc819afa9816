// Where a student is in a course, remembered in this browser: the last lesson opened and,
// per lesson, the position and whether it is done. Fed by the page's own writes and by
// `progress.updated` events from any tab, and seeded from GET /api/enrollments/{id}/progress.

const PREFIX = "portal.lessons.";

// This browser's localStorage, or null where it is disabled (reading it can throw).
export function defaultStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export class LessonStore {
  constructor(userId, enrollmentId, storage = defaultStorage()) {
    this.key = `${PREFIX}${userId}.${enrollmentId}`;
    this.storage = storage;
  }

  read() {
    try {
      const value = JSON.parse(this.storage?.getItem(this.key) ?? "null");
      if (value && typeof value === "object" && value.lessons && typeof value.lessons === "object") return value;
    } catch {
      /* unreadable: start over */
    }
    return { last: null, lessons: {} };
  }

  write(state) {
    try {
      this.storage?.setItem(this.key, JSON.stringify(state));
    } catch {
      /* storage full or disabled */
    }
  }

  lesson(lessonId) {
    return this.read().lessons[lessonId] ?? { completed: false, position: 0 };
  }

  update(lessonId, patch) {
    const state = this.read();
    const current = state.lessons[lessonId] ?? { completed: false, position: 0 };
    const next = { ...current };
    if (typeof patch.completed === "boolean") next.completed = patch.completed;
    if (Number.isFinite(patch.position)) next.position = Math.max(0, Math.floor(patch.position));
    state.lessons[lessonId] = next;
    this.write(state);
    return next;
  }

  visit(lessonId) {
    const state = this.read();
    state.last = lessonId;
    this.write(state);
  }

  // Resume here: the last lesson opened if it is not done, else the first not done.
  resumeLesson(lessonIds) {
    const state = this.read();
    if (state.last && lessonIds.includes(state.last) && !state.lessons[state.last]?.completed) return state.last;
    return lessonIds.find((id) => !state.lessons[id]?.completed) ?? state.last ?? lessonIds[0] ?? null;
  }
}

export function rememberProgressEvent(userId, frame, storage) {
  if (!userId || typeof frame?.enrollment !== "number" || typeof frame.lesson !== "number") return;
  const patch = {};
  if (typeof frame.completed === "boolean") patch.completed = frame.completed;
  if (Number.isFinite(frame.position_seconds)) patch.position = frame.position_seconds;
  new LessonStore(userId, frame.enrollment, storage).update(frame.lesson, patch);
}
