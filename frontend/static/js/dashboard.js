// The student dashboard: enrollments with progress bars kept live by the socket's
// `progress.updated` and `enrollment.status` events (every open tab receives them).

import { api, query } from "./api.js";
import { rememberProgressEvent } from "./lessonstore.js";
import { $, announce, clear, dateTime, emptyState, errorState, h, progressBar, setProgress, skeletonCards, statusBadge } from "./ui.js";

export function progressText(progress) {
  const { completed_lessons: done = 0, total_lessons: total = 0, percent = 0 } = progress ?? {};
  if (!total) return "No lessons yet";
  return `${done} of ${total} lessons · ${Math.round(percent)}%`;
}

function card(enrollment) {
  const course = enrollment.course;
  const active = enrollment.status === "active";
  const started = (enrollment.progress?.completed_lessons ?? 0) > 0;
  const done = enrollment.progress?.percent >= 100;
  return h(
    "article",
    { class: "card enrollment-card", dataset: { enrollment: String(enrollment.id), status: enrollment.status } },
    h(
      "div",
      { class: "enrollment-head" },
      h("h3", {}, h("a", { href: `/courses/${encodeURIComponent(course.slug)}` }, course.title)),
      statusBadge(enrollment.status),
    ),
    h("p", { class: "muted small" }, [enrollment.number, course.instructor?.name, `Enrolled ${dateTime(enrollment.created_at)}`].filter(Boolean).join(" · ")),
    h(
      "div",
      { class: "progress-row" },
      progressBar(enrollment.progress?.percent ?? 0, `Progress in ${course.title}`),
      h("span", { class: "progress-label" }, progressText(enrollment.progress)),
    ),
    h(
      "div",
      { class: "actions" },
      active
        ? h("a", { class: "button primary", href: `/learn/${enrollment.id}` }, done ? "Review" : started ? "Continue" : "Start learning")
        : h("span", { class: "muted small" }, enrollment.status === "pending" ? "Waiting for payment confirmation…" : "No longer active"),
    ),
  );
}

export function mountDashboard({ socket, user, list = $("#enrollments") }) {
  const enrollments = new Map();

  function stats() {
    const values = [...enrollments.values()].filter((e) => e.status === "active" || e.status === "pending");
    $("#stat-courses").textContent = String(values.length);
    $("#stat-completed").textContent = String(values.filter((e) => e.progress?.percent >= 100).length);
    $("#stat-lessons").textContent = String(values.reduce((n, e) => n + (e.progress?.completed_lessons ?? 0), 0));
    $("#dashboard-stats").hidden = enrollments.size === 0;
  }

  function render() {
    if (!enrollments.size) {
      clear(list, emptyState("You haven’t enrolled in a course yet.", "Find one you like in the catalog: enrolling takes a minute.", h("a", { class: "button primary", href: "/" }, "Browse the catalog")));
    } else {
      clear(list, [...enrollments.values()].map(card));
    }
    stats();
  }

  function upsert(enrollment) {
    const existing = list.querySelector(`[data-enrollment="${enrollment.id}"]`);
    const isNew = !enrollments.has(enrollment.id);
    enrollments.set(enrollment.id, enrollment);
    if (existing) existing.replaceWith(card(enrollment));
    else if (isNew) {
      // Newest first, as the API lists them.
      const items = [...enrollments.entries()];
      enrollments.clear();
      enrollments.set(enrollment.id, enrollment);
      for (const [id, value] of items) if (id !== enrollment.id) enrollments.set(id, value);
      render();
      return;
    }
    stats();
  }

  // Events that arrive while the list is loading are applied once it is there (they carry
  // absolute values, so applying one twice is harmless).
  let loading = null;

  function onProgress(frame) {
    const enrollment = enrollments.get(frame.enrollment);
    if (!enrollment) return;
    const progress = frame.progress ?? { ...enrollment.progress, percent: frame.percent };
    enrollment.progress = progress;
    const element = list.querySelector(`[data-enrollment="${frame.enrollment}"]`);
    if (element) {
      setProgress(element.querySelector("progress"), progress.percent);
      element.querySelector(".progress-label").textContent = progressText(progress);
      const action = element.querySelector(".actions .button");
      if (action) action.textContent = progress.percent >= 100 ? "Review" : progress.completed_lessons ? "Continue" : "Start learning";
    }
    announce(`${enrollment.course.title}: ${progressText(progress)}.`);
    stats();
  }

  function onStatus(frame) {
    if (!frame.enrollment?.id) return;
    upsert(frame.enrollment);
    announce(`${frame.enrollment.course.title}: enrollment ${frame.enrollment.status}.`);
  }

  socket.on("progress.updated", (frame) => {
    rememberProgressEvent(user.id, frame);
    if (loading) loading.push(() => onProgress(frame));
    else onProgress(frame);
  });
  socket.on("enrollment.status", (frame) => {
    if (loading) loading.push(() => onStatus(frame));
    else onStatus(frame);
  });

  async function load() {
    loading = [];
    clear(list, skeletonCards(3));
    list.setAttribute("aria-busy", "true");
    try {
      const page = await api(`/api/enrollments${query({ role: "student", page_size: 100 })}`);
      enrollments.clear();
      for (const enrollment of page.results) enrollments.set(enrollment.id, enrollment);
      render();
    } catch (error) {
      clear(list, errorState(`Your courses could not be loaded: ${error.message}`, load));
    } finally {
      list.setAttribute("aria-busy", "false");
      const queued = loading ?? [];
      loading = null;
      for (const apply of queued) apply();
    }
  }

  return { load };
}
