// A lesson: a stand-in "video" (a timer and a slider) whose position is stored
// periodically, on pause, on seek and on leaving; "mark as complete"; the course outline
// and progress kept live by `progress.updated` from every tab. Every write goes through
// the progress queue (progressqueue.js): kept in this browser until the server has it.

import { api } from "./api.js";
import { debounce } from "./debounce.js";
import { LessonStore, rememberProgressEvent } from "./lessonstore.js";
import { rememberForOffline } from "./offline.js";
import { ProgressQueue, queueKey, saveStatusText } from "./progressqueue.js";
import { $, announce, clear, duration, h, hasAccess, setProgress } from "./ui.js";

const SAVE_EVERY_SECONDS = 10;

export function flattenLessons(course) {
  const lessons = [];
  for (const module of course.modules ?? []) {
    for (const lesson of module.lessons ?? []) {
      lessons.push({ ...lesson, module: module.title, modulePosition: module.position });
    }
  }
  return lessons;
}

export function progressLabel(progress) {
  const done = progress?.completed_lessons ?? 0;
  const total = progress?.total_lessons ?? 0;
  return total ? `${done} of ${total} lessons · ${Math.round(progress?.percent ?? 0)}%` : "";
}

// The browser's queue of this user's progress writes, sent with an Idempotency-Key each;
// tabs take turns draining it (Web Locks) where the browser has them.
export function progressQueueFor(user) {
  const locks = globalThis.navigator?.locks;
  return new ProgressQueue({
    userId: user.id,
    send: (entry, { keepalive }) =>
      api(`/api/enrollments/${entry.enrollment}/progress`, {
        method: "POST",
        body: entry.body,
        headers: { "Idempotency-Key": entry.key },
        keepalive,
      }),
    lock: locks ? (drain) => locks.request(`portal.progress-queue.${user.id}`, drain) : null,
  });
}

export function mountLesson({ socket, user, root }) {
  const enrollmentId = Number(root.dataset.enrollment);
  const requested = root.dataset.lesson ? Number(root.dataset.lesson) : null;
  const store = new LessonStore(user.id, enrollmentId);
  const main = $(".lesson-main", root);
  const notice = $("#lesson-notice");
  const player = $("#player");
  const play = $("#play");
  const seek = $("#seek");
  const time = $("#time");
  const completeButton = $("#complete");
  const saveStatus = $("#save-status");
  const queue = progressQueueFor(user);

  let lesson = null;
  let lessons = [];
  let progress = null;
  let active = false;
  let position = 0;
  let length = 60;
  let completed = false;
  let playing = false;
  let ticker = null;
  let lastSaved = null;
  let sinceSave = 0;

  function showNotice(text, tone = "warning") {
    notice.className = `notice ${tone}`;
    notice.textContent = text;
    notice.hidden = false;
  }

  function renderTime() {
    seek.value = String(position);
    const text = `${duration(position)} / ${duration(length)}`;
    time.textContent = text;
    seek.setAttribute("aria-valuetext", `${duration(position)} of ${duration(length)}`);
  }

  function renderCompleted() {
    completeButton.setAttribute("aria-pressed", completed ? "true" : "false");
    completeButton.textContent = completed ? "✓ Completed" : "Mark as complete";
    completeButton.classList.toggle("done", completed);
    const item = $(`#lesson-list [data-lesson="${lesson.id}"]`);
    item?.classList.toggle("done", completed);
  }

  function renderProgress() {
    setProgress($("#course-progress"), progress?.percent ?? 0);
    $("#course-progress-label").textContent = progressLabel(progress);
  }

  function renderOutline(course) {
    $("#outline-title").textContent = course.title;
    const state = store.read();
    let currentModule = null;
    const items = [];
    for (const entry of lessons) {
      if (entry.module !== currentModule) {
        currentModule = entry.module;
        items.push(h("li", { class: "lesson-list-module", "aria-hidden": "true" }, entry.module));
      }
      const done = state.lessons[entry.id]?.completed;
      items.push(
        h(
          "li",
          { dataset: { lesson: String(entry.id) }, class: done ? "done" : "" },
          h(
            "a",
            { href: `/learn/${enrollmentId}/${entry.id}`, "aria-current": entry.id === lesson.id ? "page" : null },
            h("span", { class: "check", "aria-hidden": "true" }),
            h("span", { class: "lesson-list-title" }, entry.title),
            h("span", { class: "visually-hidden lesson-done-label" }, done ? " (completed)" : ""),
            h("span", { class: "muted small" }, duration(entry.duration_seconds)),
          ),
        ),
      );
    }
    clear($("#lesson-list"), items);
  }

  function setPlaying(value) {
    playing = value;
    player.dataset.playing = value ? "true" : "false";
    play.setAttribute("aria-label", value ? "Pause" : "Play");
    clearInterval(ticker);
    if (value) ticker = setInterval(tick, 1000);
  }

  function tick() {
    position = Math.min(length, position + 1);
    sinceSave += 1;
    renderTime();
    if (position >= length) {
      setPlaying(false);
      save();
      $("#resume-note").textContent = "You reached the end of this lesson.";
      if (!completed) setCompleted(true);
      return;
    }
    if (sinceSave >= SAVE_EVERY_SECONDS) save();
  }

  function renderSaveState(status) {
    saveStatus.dataset.state = status.state;
    saveStatus.textContent = saveStatusText(status);
  }

  function save({ keepalive = false } = {}) {
    if (!active || !lesson || position === lastSaved) return;
    sinceSave = 0;
    lastSaved = position;
    store.update(lesson.id, { position });
    queue.enqueue(enrollmentId, { lesson: lesson.id, position_seconds: position }, { keepalive });
  }

  const saveSoon = debounce(() => save(), 600);

  // Shown at once (and kept in this browser); the queue says when the server has it.
  function setCompleted(value) {
    if (!active || !lesson) return;
    const changed = value !== completed;
    completed = value;
    lastSaved = position;
    store.update(lesson.id, { completed, position });
    if (progress && changed) {
      const total = progress.total_lessons ?? 0;
      const done = Math.min(total, Math.max(0, (progress.completed_lessons ?? 0) + (completed ? 1 : -1)));
      progress = { ...progress, completed_lessons: done, percent: total ? Math.round((1000 * done) / total) / 10 : 0 };
    }
    renderCompleted();
    renderProgress();
    announce(completed ? "Lesson marked as complete." : "Lesson marked as not complete.");
    queue.enqueue(enrollmentId, { lesson: lesson.id, completed: value, position_seconds: position });
  }

  queue.onChange(renderSaveState);
  queue.onSaved((entry, answer) => {
    if (entry.enrollment !== enrollmentId || !answer) return;
    if (progress) progress = { ...progress, percent: answer.percent };
    renderProgress();
  });
  queue.onRefused((entry) => {
    // A completion the server refused is undone here too.
    if (entry.enrollment !== enrollmentId || typeof entry.body.completed !== "boolean") return;
    store.update(entry.body.lesson, { completed: !entry.body.completed });
    if (lesson && entry.body.lesson === lesson.id) {
      completed = !entry.body.completed;
      renderCompleted();
    }
  });
  window.addEventListener("online", () => queue.wake());
  window.addEventListener("storage", (event) => {
    if (event.key === queueKey(user.id)) queue.refresh();
  });

  function link(anchor, target) {
    if (target) {
      anchor.href = `/learn/${enrollmentId}/${target.id}`;
      anchor.removeAttribute("aria-disabled");
      anchor.title = target.title;
      anchor.classList.remove("disabled");
    } else {
      anchor.removeAttribute("href");
      anchor.setAttribute("aria-disabled", "true");
      anchor.classList.add("disabled");
    }
  }

  socket.on("progress.updated", (frame) => {
    rememberProgressEvent(user.id, frame);
    if (frame.enrollment !== enrollmentId || !lesson) return;
    if (frame.progress) progress = frame.progress;
    else if (progress) progress = { ...progress, percent: frame.percent };
    renderProgress();
    $(`#lesson-list [data-lesson="${frame.lesson}"]`)?.classList.toggle("done", !!frame.completed);
    if (frame.lesson === lesson.id) {
      completed = !!frame.completed;
      renderCompleted();
      // Another tab moved this lesson's position: follow it unless this tab is playing.
      if (!playing && Number.isFinite(frame.position_seconds) && frame.position_seconds !== position) {
        position = Math.min(length, frame.position_seconds);
        lastSaved = position;
        renderTime();
      }
    }
  });

  async function load() {
    let enrollment;
    let course;
    try {
      enrollment = await api(`/api/enrollments/${enrollmentId}`);
      course = await api(`/api/courses/${encodeURIComponent(enrollment.course.slug)}`);
    } catch (error) {
      main.setAttribute("aria-busy", "false");
      $("#lesson-title").textContent = error.status === 404 ? "Lesson not found" : "Something went wrong";
      showNotice(error.status === 404 ? "This enrollment does not exist or is not yours." : `The lesson could not be loaded: ${error.message}`, "error");
      return;
    }
    lessons = flattenLessons(course);
    progress = enrollment.progress;
    // The server's record wins over this browser's: lessons done on another device.
    try {
      const recorded = await api(`/api/enrollments/${enrollmentId}/progress`);
      for (const row of recorded.lessons ?? []) {
        store.update(row.lesson, { completed: row.completed, position: row.position_seconds });
      }
    } catch {
      /* offline or an older server: this browser's memory still resumes */
    }
    // …except for writes still queued here: the server does not have them yet.
    for (const entry of queue.pending(enrollmentId)) {
      store.update(entry.body.lesson, { completed: entry.body.completed, position: entry.body.position_seconds });
    }
    if (!lessons.length) {
      main.setAttribute("aria-busy", "false");
      $("#lesson-title").textContent = course.title;
      showNotice("This course has no lessons yet.", "info");
      return;
    }
    const ids = lessons.map((l) => l.id);
    let chosen = requested !== null && ids.includes(requested) ? requested : null;
    if (requested !== null && chosen === null) showNotice("That lesson is not part of this course; here is where you left off.", "info");
    chosen ??= store.resumeLesson(ids);
    lesson = lessons.find((l) => l.id === chosen) ?? lessons[0];
    store.visit(lesson.id);
    if (location.pathname !== `/learn/${enrollmentId}/${lesson.id}`) history.replaceState(null, "", `/learn/${enrollmentId}/${lesson.id}`);

    const index = lessons.indexOf(lesson);
    document.title = `${lesson.title} · ${course.title} · Learning Portal`;
    $("#lesson-module").textContent = `${lesson.module} · Lesson ${index + 1} of ${lessons.length}`;
    $("#lesson-title").textContent = lesson.title;
    renderOutline(course);
    renderProgress();

    active = hasAccess(enrollment.status); // a completed course can still be reviewed
    const saved = store.lesson(lesson.id);
    completed = !!saved.completed;
    length = Math.max(1, lesson.duration_seconds || 60);
    position = Math.min(saved.position || 0, length);
    if (position >= length) position = 0;
    lastSaved = position;
    seek.max = String(length);
    renderTime();
    renderCompleted();
    if (position > 0) $("#resume-note").textContent = `Resuming where you left off, at ${duration(position)}.`;

    link($("#prev-lesson"), lessons[index - 1]);
    link($("#next-lesson"), lessons[index + 1]);
    player.hidden = false;
    $("#lesson-actions").hidden = false;
    main.setAttribute("aria-busy", "false");
    rememberForOffline([
      location.pathname,
      `/api/enrollments/${enrollmentId}`,
      `/api/courses/${encodeURIComponent(enrollment.course.slug)}`,
      `/api/enrollments/${enrollmentId}/progress`,
    ]);

    if (!active) {
      showNotice(
        enrollment.status === "pending"
          ? "Your enrollment is waiting for payment confirmation; progress is saved once it is active."
          : "This enrollment is no longer active; progress cannot be recorded.",
      );
      completeButton.disabled = true;
    }
  }

  play.addEventListener("click", () => {
    if (playing) {
      setPlaying(false);
      save();
    } else {
      if (position >= length) position = 0;
      $("#resume-note").textContent = "";
      setPlaying(true);
    }
  });
  seek.addEventListener("input", () => {
    position = Number(seek.value);
    renderTime();
    saveSoon();
  });
  completeButton.addEventListener("click", () => setCompleted(!completed));
  queue.flush(); // writes left queued by an earlier page
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") save({ keepalive: true });
  });
  window.addEventListener("pagehide", () => save({ keepalive: true }));

  return { load };
}
