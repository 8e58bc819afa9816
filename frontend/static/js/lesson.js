// The lesson page: GET /api/lessons/{id} rendered by kind. A text lesson shows its
// body_html (sanitised and highlighted by the server; inserted as HTML from that field
// only) and "Mark as complete"; a video lesson plays in the browser's own <video> with
// captions, a transcript, playback speed and the saved position, and completes itself once
// 90 % has been watched (videoplayer.js). Resources are listed as downloads, with previous
// and next lessons and the course outline beside.
//
// For an enrollment (/learn/<enrollment>[/<lesson>]) progress is written through the
// progress queue (progressqueue.js): kept in this browser until the server has it, so the
// page works offline; `progress.updated` from every tab keeps the outline and bar live.
// A preview lesson (/lessons/<id>) is readable by anyone and records nothing.

import { api } from "./api.js";
import { LessonStore, rememberProgressEvent } from "./lessonstore.js";
import { rememberForOffline } from "./offline.js";
import { ProgressQueue, queueKey, saveStatusText } from "./progressqueue.js";
import { $, announce, clear, duration, h, hasAccess, LESSON_KIND_LABELS, setProgress } from "./ui.js";
import { mountVideo } from "./videoplayer.js";

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

export function fileSize(bytes) {
  const value = Number(bytes);
  if (!Number.isFinite(value) || value < 0) return "";
  if (value < 1024) return `${value} B`;
  const units = ["KB", "MB", "GB"];
  let size = value / 1024;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${size >= 10 ? Math.round(size) : Math.round(size * 10) / 10} ${units[unit]}`;
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
  const preview = root.dataset.preview === "true";
  const enrollmentId = preview ? null : Number(root.dataset.enrollment);
  const requested = root.dataset.lesson ? Number(root.dataset.lesson) : null;
  const store = preview ? null : new LessonStore(user.id, enrollmentId);
  const queue = preview ? null : progressQueueFor(user);
  const main = $(".lesson-main", root);
  const notice = $("#lesson-notice");
  const completeButton = $("#complete");
  const saveStatus = $("#save-status");

  let lesson = null; // the API's Lesson
  let lessons = []; // the course outline, flattened
  let progress = null;
  let active = false;
  let position = 0;
  let completed = false;
  let lastSaved = null;
  let sinceSave = 0;
  let lastTick = null;
  let player = null;

  const lessonHref = (id) => (preview ? `/lessons/${id}` : `/learn/${enrollmentId}/${id}`);

  function showNotice(text, tone = "warning", link = null) {
    notice.className = `notice ${tone}`;
    clear(notice, text, link ? [" ", h("a", { href: link.href }, link.text)] : null);
    notice.hidden = false;
  }

  function renderCompleted() {
    if (completeButton) {
      completeButton.setAttribute("aria-pressed", completed ? "true" : "false");
      completeButton.textContent = completed ? "✓ Completed" : "Mark as complete";
      completeButton.classList.toggle("done", completed);
    }
    if (lesson) {
      const item = $(`#lesson-list [data-lesson="${lesson.id}"]`);
      item?.classList.toggle("done", completed);
      const label = item ? $(".lesson-done-label", item) : null;
      if (label) label.textContent = completed ? " (completed)" : "";
    }
  }

  function renderProgress() {
    if (preview) return;
    setProgress($("#course-progress"), progress?.percent ?? 0);
    $("#course-progress-label").textContent = progressLabel(progress);
  }

  function renderOutline(course) {
    $("#outline-title").textContent = course.title;
    const state = store?.read() ?? { lessons: {} };
    let currentModule = null;
    const items = [];
    for (const entry of lessons) {
      if (entry.module !== currentModule) {
        currentModule = entry.module;
        items.push(h("li", { class: "lesson-list-module", "aria-hidden": "true" }, entry.module));
      }
      const done = state.lessons[entry.id]?.completed;
      const locked = preview && !entry.preview && entry.id !== lesson.id;
      const kind = LESSON_KIND_LABELS[entry.kind] ?? "";
      const parts = [
        h("span", { class: "check", "aria-hidden": "true" }),
        h("span", { class: "lesson-list-title" }, entry.title),
        h("span", { class: "visually-hidden lesson-done-label" }, done ? " (completed)" : ""),
        kind ? h("span", { class: `kind-tag kind-${entry.kind}` }, kind) : null,
        h("span", { class: "muted small" }, duration(entry.duration_seconds)),
      ];
      items.push(
        h(
          "li",
          { dataset: { lesson: String(entry.id) }, class: [done ? "done" : "", locked ? "locked" : ""].join(" ").trim() },
          locked
            ? h("span", { class: "lesson-link" }, ...parts, h("span", { class: "visually-hidden" }, " (enroll to open)"))
            : h("a", { class: "lesson-link", href: lessonHref(entry.id), "aria-current": entry.id === lesson.id ? "page" : null }, ...parts),
        ),
      );
    }
    clear($("#lesson-list"), items);
  }

  function renderSaveState(status) {
    if (!saveStatus) return;
    saveStatus.dataset.state = status.state;
    saveStatus.textContent = saveStatusText(status);
  }

  function save({ keepalive = false } = {}) {
    if (!active || !lesson || lesson.kind !== "video" || position === lastSaved) return;
    sinceSave = 0;
    lastSaved = position;
    store.update(lesson.id, { position });
    queue.enqueue(enrollmentId, { lesson: lesson.id, position_seconds: position }, { keepalive });
  }

  // Shown at once (and kept in this browser); the queue says when the server has it.
  function setCompleted(value, { automatic = false } = {}) {
    if (!active || !lesson || value === completed) return;
    completed = value;
    lastSaved = position;
    store.update(lesson.id, { completed, position });
    if (progress) {
      const total = progress.total_lessons ?? 0;
      const done = Math.min(total, Math.max(0, (progress.completed_lessons ?? 0) + (completed ? 1 : -1)));
      progress = { ...progress, completed_lessons: done, percent: total ? Math.round((1000 * done) / total) / 10 : 0 };
    }
    renderCompleted();
    renderProgress();
    if (automatic) announce("You have watched this lesson: it is marked as complete.");
    else announce(completed ? "Lesson marked as complete." : "Lesson marked as not complete.");
    const body = { lesson: lesson.id, completed: value };
    if (lesson.kind === "video") body.position_seconds = position;
    queue.enqueue(enrollmentId, body);
  }

  if (queue) {
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
  }

  socket.on("progress.updated", (frame) => {
    if (preview) return;
    rememberProgressEvent(user.id, frame);
    if (frame.enrollment !== enrollmentId || !lesson) return;
    if (frame.progress) progress = frame.progress;
    else if (progress) progress = { ...progress, percent: frame.percent };
    renderProgress();
    $(`#lesson-list [data-lesson="${frame.lesson}"]`)?.classList.toggle("done", !!frame.completed);
    if (frame.lesson === lesson.id && !queue.pending(enrollmentId).length) {
      completed = !!frame.completed;
      renderCompleted();
    }
  });

  // The course is finished: say so, with the certificate.
  function showCompletedCourse(certificate) {
    const link = certificate?.url ? { href: certificate.url, text: "See your certificate" } : null;
    showNotice("You have completed this course.", "success", link);
  }

  socket.on("enrollment.completed", (frame) => {
    if (preview || frame.enrollment?.id !== enrollmentId) return;
    showCompletedCourse(frame.certificate);
  });

  function renderResources(resources) {
    const list = $("#resource-list");
    clear(
      list,
      (resources ?? []).map((resource) =>
        h(
          "li",
          {},
          h(
            "a",
            { href: resource.url, download: "", class: "resource-link" },
            h("span", { class: "resource-icon", "aria-hidden": "true" }, "⤓"),
            h("span", { class: "resource-title" }, resource.title),
          ),
          resource.size ? h("span", { class: "muted small" }, ` ${fileSize(resource.size)}`) : null,
        ),
      ),
    );
    $("#resources").hidden = !resources?.length;
  }

  function link(anchor, id) {
    const target = id ? lessons.find((l) => l.id === id) : null;
    const reachable = id && (!preview || target?.preview);
    if (reachable) {
      anchor.href = lessonHref(id);
      anchor.removeAttribute("aria-disabled");
      anchor.classList.remove("disabled");
      if (target) anchor.title = target.title;
    } else {
      anchor.removeAttribute("href");
      anchor.setAttribute("aria-disabled", "true");
      anchor.classList.add("disabled");
    }
  }

  function renderVideo() {
    $("#video-lesson").hidden = false;
    $("#video").setAttribute("aria-label", `Video: ${lesson.title}`);
    const saved = store?.lesson(lesson.id) ?? { position: 0 };
    position = saved.position || 0;
    lastSaved = position;
    if (position > 0) $("#resume-note").textContent = `Resuming where you left off, at ${duration(position)}.`;
    if (preview) $("#watch-note").hidden = true;
    player = mountVideo({
      video: $("#video"),
      speed: $("#speed"),
      transcriptSection: $("#transcript-section"),
      transcriptList: $("#transcript"),
      transcriptLang: $("#transcript-lang"),
      media: lesson.media,
      startAt: position,
      onTime: (time, length, { seeking }) => {
        const second = Math.floor(time);
        if (!preview && second !== lastTick) {
          if (lastTick !== null && second > lastTick && second - lastTick <= 2) sinceSave += second - lastTick;
          lastTick = second;
        }
        position = second;
        if (seeking) save();
        else if (sinceSave >= SAVE_EVERY_SECONDS) save();
      },
      onPause: (time) => {
        position = Math.floor(time);
        save();
      },
      onWatched: () => {
        if (preview) return;
        if (!completed) setCompleted(true, { automatic: true });
        $("#watch-note").textContent = "You have watched this lesson.";
      },
      refreshMedia: async () => (await api(`/api/lessons/${lesson.id}`)).media,
    });
    if (completed) player.markWatched();
  }

  function renderBody() {
    const body = $("#lesson-body");
    if (!lesson.body_html) return;
    // Sanitised on the server (catalog/content.py): the one place HTML enters the page.
    body.innerHTML = lesson.body_html;
    body.hidden = false;
  }

  async function loadPreview() {
    lesson = await api(`/api/lessons/${requested}`);
    const course = await api(`/api/courses/${encodeURIComponent(lesson.course.slug)}`);
    lessons = flattenLessons(course);
    const enrollLink = $("#enroll-link");
    if (enrollLink) enrollLink.href = `/courses/${encodeURIComponent(course.slug)}`;
    $("#back-link").href = `/courses/${encodeURIComponent(course.slug)}`;
    $("#back-link").textContent = "← About this course";
    return course;
  }

  async function loadEnrolled() {
    const enrollment = await api(`/api/enrollments/${enrollmentId}`);
    const course = await api(`/api/courses/${encodeURIComponent(enrollment.course.slug)}`);
    lessons = flattenLessons(course);
    progress = enrollment.progress;
    active = hasAccess(enrollment.status); // a completed course can still be reviewed
    // The server's record wins over this browser's: lessons done on another device…
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
    if (!lessons.length) return { course, enrollment };
    const ids = lessons.map((l) => l.id);
    let chosen = requested !== null && ids.includes(requested) ? requested : null;
    if (requested !== null && chosen === null) showNotice("That lesson is not part of this course; here is where you left off.", "info");
    chosen ??= store.resumeLesson(ids);
    lesson = await api(`/api/lessons/${chosen}`);
    store.visit(lesson.id);
    if (location.pathname !== lessonHref(lesson.id)) history.replaceState(null, "", lessonHref(lesson.id));
    return { course, enrollment };
  }

  function failed(error) {
    main.setAttribute("aria-busy", "false");
    const title = $("#lesson-title");
    if (error.status === 401) {
      title.textContent = "Sign in to open this lesson";
      showNotice("This lesson is for the course's students.", "info", { href: `/signin?next=${encodeURIComponent(location.pathname)}`, text: "Sign in" });
    } else if (error.status === 403) {
      title.textContent = "This lesson is for enrolled students";
      showNotice("Enroll in the course to open it.", "info", { href: "/", text: "Browse the catalog" });
    } else if (error.status === 404) {
      title.textContent = "Lesson not found";
      showNotice(preview ? "This lesson does not exist." : "This enrollment does not exist or is not yours.", "error");
    } else {
      title.textContent = "Something went wrong";
      showNotice(`The lesson could not be loaded: ${error.message}`, "error");
    }
  }

  async function load() {
    let course;
    let enrollment = null;
    try {
      if (preview) course = await loadPreview();
      else ({ course, enrollment } = await loadEnrolled());
    } catch (error) {
      failed(error);
      return;
    }
    if (!lesson) {
      main.setAttribute("aria-busy", "false");
      $("#lesson-title").textContent = course.title;
      showNotice("This course has no lessons yet.", "info");
      return;
    }

    const index = lessons.findIndex((l) => l.id === lesson.id);
    document.title = `${lesson.title} · ${course.title} · Learning Portal`;
    const kind = LESSON_KIND_LABELS[lesson.kind];
    $("#lesson-module").textContent = [lesson.module?.title, index >= 0 ? `Lesson ${index + 1} of ${lessons.length}` : null, kind, preview ? "Free preview" : null]
      .filter(Boolean)
      .join(" · ");
    $("#lesson-title").textContent = lesson.title;
    root.dataset.kind = lesson.kind;
    completed = !!store?.lesson(lesson.id).completed;
    renderOutline(course);
    // This tab is one of the course's pages: a signed-in learner here counts in its
    // `course.presence` (shown on the course page and the instructor's dashboard).
    socket.watch(course.slug, { present: true });
    renderProgress();
    renderCompleted();

    if (lesson.kind === "video" && lesson.media?.url) renderVideo();
    else if (lesson.kind === "video") showNotice("This video is not available yet.", "info");
    renderBody();
    renderResources(lesson.resources);
    link($("#prev-lesson"), lesson.previous);
    link($("#next-lesson"), lesson.next);
    $("#lesson-actions").hidden = false;
    main.setAttribute("aria-busy", "false");

    if (!preview) {
      rememberForOffline([
        location.pathname,
        `/api/lessons/${lesson.id}`,
        `/api/enrollments/${enrollmentId}`,
        `/api/courses/${encodeURIComponent(course.slug)}`,
        `/api/enrollments/${enrollmentId}/progress`,
      ]);
      if (enrollment.status === "completed") showCompletedCourse(enrollment.certificate);
      if (!active) {
        showNotice(
          enrollment.status === "pending"
            ? "Your enrollment is waiting for payment confirmation; progress is saved once it is active."
            : "This enrollment is not active; progress cannot be recorded.",
        );
        completeButton.disabled = true;
      }
    }
  }

  completeButton?.addEventListener("click", () => setCompleted(!completed));
  if (queue) {
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") save({ keepalive: true });
    });
    window.addEventListener("pagehide", () => save({ keepalive: true }));
    queue.flush(); // writes left queued by an earlier page
  }

  return { load, get player() { return player; } };
}
