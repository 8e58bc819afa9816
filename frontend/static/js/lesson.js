// A lesson: a stand-in "video" (a timer and a slider) whose position is stored
// periodically, on pause, on seek and on leaving; "mark as complete"; the course outline
// and progress kept live by `progress.updated` from every tab.

import { api } from "./api.js";
import { debounce } from "./debounce.js";
import { LessonStore, rememberProgressEvent } from "./lessonstore.js";
import { $, clear, duration, h, hasAccess, setProgress } from "./ui.js";

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

  async function save({ keepalive = false } = {}) {
    if (!active || !lesson || position === lastSaved) return;
    sinceSave = 0;
    lastSaved = position;
    store.update(lesson.id, { position });
    try {
      await api(`/api/enrollments/${enrollmentId}/progress`, {
        method: "POST",
        body: { lesson: lesson.id, position_seconds: position },
        keepalive,
      });
      if (!keepalive) saveStatus.textContent = `Position saved at ${duration(position)}.`;
    } catch (error) {
      lastSaved = null;
      if (!keepalive) saveStatus.textContent = `Your position could not be saved: ${error.message}`;
    }
  }

  const saveSoon = debounce(() => save(), 600);

  async function setCompleted(value) {
    if (!active) return;
    completeButton.disabled = true;
    try {
      const answer = await api(`/api/enrollments/${enrollmentId}/progress`, {
        method: "POST",
        body: { lesson: lesson.id, completed: value, position_seconds: position },
      });
      const changed = answer.completed !== completed;
      completed = answer.completed;
      lastSaved = position;
      store.update(lesson.id, { completed, position });
      if (progress && changed) {
        const done = Math.max(0, (progress.completed_lessons ?? 0) + (completed ? 1 : -1));
        progress = { ...progress, completed_lessons: Math.min(done, progress.total_lessons ?? done), percent: answer.percent };
      } else if (progress) {
        progress = { ...progress, percent: answer.percent };
      }
      renderCompleted();
      renderProgress();
      saveStatus.textContent = completed ? "Lesson marked as complete." : "Lesson marked as not complete.";
    } catch (error) {
      saveStatus.textContent = `That did not save: ${error.message}`;
    } finally {
      completeButton.disabled = false;
    }
  }

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
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") save({ keepalive: true });
  });
  window.addEventListener("pagehide", () => save({ keepalive: true }));

  return { load };
}
