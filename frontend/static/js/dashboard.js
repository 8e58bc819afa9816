// The student dashboard: enrollments in two tabs, "Learning" and "Completed", with progress
// bars kept live by the socket's `progress.updated`, `enrollment.status` and
// `enrollment.completed` events (every open tab receives them). One reducer, applyEvent,
// turns an event into the new state (tests/realtime/test_event_state.py mirrors it); the
// page then redraws what changed.

import { api, query } from "./api.js";
import { rememberProgressEvent } from "./lessonstore.js";
import { confirmDelete } from "./studiodialogs.js";
import { $, announce, clear, dateTime, emptyState, errorState, h, hasAccess, isLive, progressBar, setProgress, skeletonCards, statusBadge, toast } from "./ui.js";

export function progressText(progress) {
  const { completed_lessons: done = 0, total_lessons: total = 0, percent = 0 } = progress ?? {};
  if (!total) return "No lessons yet";
  return `${done} of ${total} lessons · ${Math.round(percent)}%`;
}

export const SECTIONS = ["learning", "completed"];

// Which tab an enrollment is listed in. A completed one stays there whatever its percent
// does later (a lesson added to the course lowers it; the completion stands).
export const sectionOf = (enrollment) => (enrollment.status === "completed" ? "completed" : "learning");

// A checkout whose card was declined (cancelled with its payment failed) was never a course
// of the student's: it is not listed (a pending one that fails leaves the list live).
export const shown = (enrollment) => !(enrollment.status === "cancelled" && enrollment.payment?.status === "failed");

// Apply one socket event to the state: `enrollments`, a Map of id → Enrollment, newest first
// as GET /api/enrollments lists them. Returns {id, kind} ("added", "changed", "progress")
// or null when the event is not about this dashboard's enrollments. Events carry absolute
// values, so applying one twice changes nothing.
export function applyEvent(enrollments, frame) {
  if (frame.type === "enrollment.status" || frame.type === "enrollment.completed") {
    const body = frame.enrollment;
    if (!body?.id) return null;
    if (enrollments.has(body.id)) {
      enrollments.set(body.id, body);
      return { id: body.id, kind: "changed" };
    }
    const rest = [...enrollments.entries()];
    enrollments.clear();
    enrollments.set(body.id, body);
    for (const [id, value] of rest) enrollments.set(id, value);
    return { id: body.id, kind: "added" };
  }
  if (frame.type === "progress.updated") {
    const enrollment = enrollments.get(frame.enrollment);
    if (!enrollment) return null;
    const progress = frame.progress ?? { ...enrollment.progress, percent: frame.percent };
    enrollments.set(frame.enrollment, { ...enrollment, progress });
    return { id: frame.enrollment, kind: "progress" };
  }
  return null;
}

export function dashboardStats(enrollments) {
  const values = [...enrollments.values()];
  const live = values.filter((e) => isLive(e.status));
  return {
    courses: live.length,
    completed: values.filter((e) => e.status === "completed").length,
    lessons: live.reduce((n, e) => n + (e.progress?.completed_lessons ?? 0), 0),
  };
}

function actionLabel(progress) {
  return progress?.percent >= 100 ? "Review" : progress?.completed_lessons ? "Continue" : "Start learning";
}

// A paid enrollment has a receipt (issued when the payment succeeded, kept after a refund).
function receiptLink(enrollment) {
  const paid = ["succeeded", "refunded"].includes(enrollment.payment?.status) && Number(enrollment.payment.amount) > 0;
  if (!paid) return null;
  return h("a", { class: "button ghost", href: `/enrollments/${enrollment.id}/receipt`, dataset: { role: "receipt" } }, "Receipt", h("span", { class: "visually-hidden" }, ` for ${enrollment.course.title}`));
}

function actions(enrollment) {
  return [mainActions(enrollment), receiptLink(enrollment)].flat().filter(Boolean);
}

function mainActions(enrollment) {
  const title = enrollment.course.title;
  if (enrollment.status === "completed") {
    return [
      enrollment.certificate
        ? h("a", { class: "button primary", href: enrollment.certificate.url, dataset: { role: "certificate" } }, "View certificate", h("span", { class: "visually-hidden" }, ` for ${title}`))
        : null,
      h("a", { class: "button secondary", href: `/learn/${enrollment.id}` }, "Review", h("span", { class: "visually-hidden" }, ` ${title}`)),
    ];
  }
  if (hasAccess(enrollment.status)) {
    return h("a", { class: "button primary", href: `/learn/${enrollment.id}`, dataset: { role: "continue" } }, actionLabel(enrollment.progress));
  }
  if (enrollment.status === "pending" && enrollment.hold_expires_at) {
    // An open checkout: finished on the course page (the bank's check, another card).
    return h(
      "a",
      { class: "button primary", href: `/courses/${encodeURIComponent(enrollment.course.slug)}`, dataset: { role: "complete-payment" } },
      "Complete payment",
      h("span", { class: "visually-hidden" }, ` for ${enrollment.course.title}`),
    );
  }
  return h("span", { class: "muted small" }, enrollment.status === "pending" ? "Waiting for payment confirmation…" : "No longer active");
}

function card(enrollment) {
  const course = enrollment.course;
  const completed = enrollment.status === "completed";
  const when = completed && enrollment.completed_at ? `Completed ${dateTime(enrollment.completed_at)}` : `Enrolled ${dateTime(enrollment.created_at)}`;
  return h(
    "article",
    { class: `card enrollment-card${completed ? " completed" : ""}`, dataset: { enrollment: String(enrollment.id), status: enrollment.status } },
    h(
      "div",
      { class: "enrollment-head" },
      h("h3", {}, h("a", { href: `/courses/${encodeURIComponent(course.slug)}` }, course.title)),
      statusBadge(enrollment.status),
    ),
    h("p", { class: "muted small" }, [enrollment.number, course.instructor?.name, when].filter(Boolean).join(" · ")),
    h(
      "div",
      { class: "progress-row" },
      progressBar(enrollment.progress?.percent ?? 0, `Progress in ${course.title}`),
      h("span", { class: "progress-label" }, progressText(enrollment.progress)),
    ),
    h("div", { class: "actions" }, actions(enrollment)),
    leaving(enrollment),
  );
}

// An active enrollment can be left: a free one at any time; a paid one is refunded under
// its course's refund rule, whose verdict the server put in `refund` (the reason says why
// not, before anyone clicks; the server checks again on cancel). A pending checkout can be
// given up: nothing is charged and its seat is released.
function leaving(enrollment) {
  const hidden = h("span", { class: "visually-hidden" }, ` ${enrollment.course.title}`);
  if (enrollment.status === "pending") {
    return h("div", { class: "leave-row" }, h("button", { type: "button", class: "button ghost small", dataset: { role: "leave" } }, "Cancel checkout", hidden));
  }
  if (enrollment.status !== "active") return null;
  const refund = enrollment.refund;
  if (refund && !refund.allowed) return h("p", { class: "muted small refund-note", dataset: { role: "refund-note" } }, `No refund: ${refund.reason}`);
  const label = refund ? "Cancel and refund" : "Leave course";
  return h(
    "div",
    { class: "leave-row" },
    h("button", { type: "button", class: "button ghost small", dataset: { role: "leave" } }, label, hidden),
    refund ? h("p", { class: "muted small refund-note", dataset: { role: "refund-note" } }, refund.reason) : null,
  );
}

const LEAVING = {
  pending: (title) => [`Cancel your checkout for ${title}?`, "Nothing is charged and the seat you were holding goes back to the course.", "Cancel checkout"],
  refund: (title, amount) => [`Cancel ${title} and get a refund?`, `${amount} goes back to your card and the course’s lessons close for you.`, "Cancel and refund"],
  free: (title) => [`Leave ${title}?`, "The course’s lessons close for you; you can enroll again later.", "Leave course"],
};

async function leave(enrollment) {
  const kind = enrollment.status === "pending" ? "pending" : enrollment.refund ? "refund" : "free";
  const amount = enrollment.payment ? `${enrollment.payment.amount} ${enrollment.payment.currency.toUpperCase()}` : "";
  const [title, text, action] = LEAVING[kind](enrollment.course.title, amount);
  if (!(await confirmDelete(title, text, { action, dismiss: "Keep the course" }))) return null;
  return api(`/api/enrollments/${enrollment.id}/cancel`, { method: "POST" });
}

const EMPTY = {
  learning: (any) =>
    emptyState(any ? "Nothing in progress." : "You haven’t enrolled in a course yet.", "Find one you like in the catalog: enrolling takes a minute.", h("a", { class: "button primary", href: "/" }, "Browse the catalog")),
  completed: () => emptyState("No completed courses yet.", "Complete every lesson of a course and its certificate appears here."),
};

// ARIA tabs: arrow keys, Home and End move between them; the URL's #completed opens that tab.
function mountTabs(onSelect) {
  const tabs = SECTIONS.map((name) => $(`#tab-${name}`));
  function select(name, { focus = false } = {}) {
    for (const tab of tabs) {
      const chosen = tab.id === `tab-${name}`;
      tab.setAttribute("aria-selected", chosen ? "true" : "false");
      tab.tabIndex = chosen ? 0 : -1;
      $(`#${tab.getAttribute("aria-controls")}`).hidden = !chosen;
      if (chosen && focus) tab.focus();
    }
    onSelect(name);
  }
  tabs.forEach((tab, index) => {
    const name = SECTIONS[index];
    tab.addEventListener("click", () => {
      select(name);
      history.replaceState(null, "", name === "completed" ? "#completed" : location.pathname + location.search);
    });
    tab.addEventListener("keydown", (event) => {
      const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      const next = (moves[event.key] + tabs.length) % tabs.length;
      tabs[next].click();
      tabs[next].focus();
    });
  });
  select(location.hash === "#completed" ? "completed" : "learning");
  return { select };
}

export function mountDashboard({ socket, user }) {
  const enrollments = new Map();
  const lists = { learning: $("#enrollments"), completed: $("#completed") };
  mountTabs(() => {});

  function drawStats() {
    const stats = dashboardStats(enrollments);
    $("#stat-courses").textContent = String(stats.courses);
    $("#stat-completed").textContent = String(stats.completed);
    $("#stat-lessons").textContent = String(stats.lessons);
    $("#dashboard-stats").hidden = enrollments.size === 0;
    const counts = { learning: 0, completed: 0 };
    for (const enrollment of enrollments.values()) if (shown(enrollment)) counts[sectionOf(enrollment)] += 1;
    for (const name of SECTIONS) $(`#count-${name}`).textContent = String(counts[name]);
  }

  function drawSection(name) {
    const listed = [...enrollments.values()].filter(shown);
    const cards = listed.filter((e) => sectionOf(e) === name).map(card);
    clear(lists[name], cards.length ? cards : EMPTY[name](listed.length > 0));
  }

  function render() {
    for (const name of SECTIONS) drawSection(name);
    drawStats();
  }

  function onProgress(id) {
    const enrollment = enrollments.get(id);
    const progress = enrollment.progress;
    const element = document.querySelector(`[data-enrollment="${id}"]`);
    if (element) {
      setProgress(element.querySelector("progress"), progress.percent);
      element.querySelector(".progress-label").textContent = progressText(progress);
      const action = element.querySelector('[data-role="continue"]');
      if (action) action.textContent = actionLabel(progress);
    }
    announce(`${enrollment.course.title}: ${progressText(progress)}.`);
  }

  function onChange({ id, kind }, frame) {
    const enrollment = enrollments.get(id);
    const existing = document.querySelector(`[data-enrollment="${id}"]`);
    const section = sectionOf(enrollment);
    if (kind === "progress") onProgress(id);
    else if (kind === "changed" && existing && existing.parentElement === lists[section] && shown(enrollment)) existing.replaceWith(card(enrollment));
    else {
      // Added, or moved to the other tab (completed): both lists are redrawn in order.
      drawSection("learning");
      drawSection("completed");
    }
    drawStats();
    if (frame.type === "enrollment.completed") {
      announce(`${enrollment.course.title}: course completed. Your certificate is in the Completed tab.`);
      toast(`You completed ${enrollment.course.title}. Your certificate is ready in the Completed tab.`, { title: "Course completed", tone: "success" });
    } else if (frame.type === "enrollment.status") {
      announce(`${enrollment.course.title}: enrollment ${enrollment.status}.`);
    }
  }

  // Events that arrive while the list is loading are applied once it is there (they carry
  // absolute values, so applying one twice is harmless).
  let loading = null;

  function onEvent(frame) {
    const change = applyEvent(enrollments, frame);
    if (change) onChange(change, frame);
  }

  // "Cancel and refund" / "Leave course" on a card (the card is redrawn from the answer,
  // and from the `enrollment.status` event every other tab gets).
  for (const list of Object.values(lists)) {
    list.addEventListener("click", async (event) => {
      const button = event.target.closest('[data-role="leave"]');
      if (!button) return;
      const id = Number(button.closest("[data-enrollment]").dataset.enrollment);
      const enrollment = enrollments.get(id);
      button.disabled = true;
      try {
        const answer = await leave(enrollment);
        if (answer) {
          onEvent({ type: "enrollment.status", enrollment: answer });
          const done = { refunded: `${enrollment.course.title}: refunded.`, cancelled: enrollment.status === "pending" ? `Checkout for ${enrollment.course.title} cancelled.` : `You left ${enrollment.course.title}.` };
          toast(done[answer.status] ?? `${enrollment.course.title}: ${answer.status}.`, { tone: "success" });
        }
      } catch (error) {
        toast(error.message, { tone: "error", title: "Not cancelled" });
      } finally {
        button.disabled = false;
      }
    });
  }

  for (const type of ["progress.updated", "enrollment.status", "enrollment.completed"]) {
    socket.on(type, (frame) => {
      if (type === "progress.updated") rememberProgressEvent(user.id, frame);
      if (loading) loading.push(frame);
      else onEvent(frame);
    });
  }

  async function load() {
    loading = [];
    clear(lists.learning, skeletonCards(3));
    for (const list of Object.values(lists)) list.setAttribute("aria-busy", "true");
    try {
      const page = await api(`/api/enrollments${query({ role: "student", page_size: 100 })}`);
      enrollments.clear();
      for (const enrollment of page.results) enrollments.set(enrollment.id, enrollment);
      render();
    } catch (error) {
      clear(lists.learning, errorState(`Your courses could not be loaded: ${error.message}`, load));
    } finally {
      for (const list of Object.values(lists)) list.setAttribute("aria-busy", "false");
      const queued = loading ?? [];
      loading = null;
      for (const frame of queued) onEvent(frame);
    }
  }

  return { load };
}
