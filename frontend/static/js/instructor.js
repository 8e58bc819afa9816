// The instructor dashboard: revenue per course and totals (GET /api/instructor/revenue), an
// enrollments-per-hour chart counted by the server (GET /api/instructor/enrollments-per-hour),
// a live feed of `enrollment.created` and `enrollment.completed` (toast + list), a CSV roster
// export per course, a form to email a course's students, and per course how many learners
// are viewing it now (`course.presence`, live).

import { api, fieldMessages, query } from "./api.js";
import { bucketsAdd, bucketsFromAnswer, chartSummary, renderBarChart } from "./chart.js";
import { formErrors } from "./forms.js";
import { viewingText } from "./presence.js";
import { $, announce, clear, emptyState, errorState, h, money, setBusy, timeAgo, toast } from "./ui.js";

const HOURS = 24;
const RECENT = 10; // enrollments the feed opens with
const WATCH_LIMIT = 50; // the socket's own limit on watched courses

export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? "?") + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

export function rosterHref(slug) {
  return `/api/courses/${encodeURIComponent(slug)}/roster.csv`;
}

// "Queued for 3 students" (or the one student).
export function queuedText(recipients) {
  return `Queued for ${recipients} student${recipients === 1 ? "" : "s"}.`;
}

// Money in a report: "$0.00" stays a sum (ui.money says "Free" for a price of 0).
export function cash(amount, currency = "usd") {
  const value = Number(amount);
  if (!Number.isFinite(value)) return "";
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() }).format(value);
  } catch {
    return `${value.toFixed(2)} ${currency.toUpperCase()}`;
  }
}

export function totalsText(totals) {
  if (!totals?.length) return cash("0.00");
  return totals.map((total) => cash(total.net, total.currency)).join(" + ");
}

export function mountInstructor({ socket, user = null }) {
  let buckets = [];
  const courses = new Map(); // slug → revenue row (first currency row)
  const viewing = new Map(); // slug → learners viewing the course now (course.presence)
  const feed = $("#feed");
  const chart = $("#chart");
  const revenue = $("#revenue");
  const form = $("#announce-form");
  const select = $("#announce-course");
  const status = $("#announce-status");
  const send = $("#announce-send");
  const errors = formErrors(form);
  let loaded = false;
  const early = [];

  function drawChart() {
    renderBarChart(chart, buckets);
    chart.setAttribute("aria-busy", "false");
    $("#chart-summary").textContent = chartSummary(buckets);
    $("#stat-hour").textContent = String(buckets[buckets.length - 1]?.count ?? 0);
    $("#stat-day").textContent = String(buckets.reduce((n, b) => n + b.count, 0));
  }

  function revenueRow(row) {
    return h(
      "tr",
      { dataset: { course: row.slug } },
      h("th", { scope: "row" }, h("a", { href: `/courses/${encodeURIComponent(row.slug)}` }, row.title), " ", viewingBadge(row.slug)),
      h("td", { class: "num", dataset: { label: "Enrollments" } }, String(row.enrollments)),
      h("td", { class: "num", dataset: { label: "Active" } }, String(row.active)),
      h("td", { class: "num", dataset: { label: "Completed" } }, String(row.completed)),
      h("td", { class: "num", dataset: { label: "Gross" } }, cash(row.gross, row.currency)),
      h("td", { class: "num", dataset: { label: "Refunds" } }, cash(row.refunds, row.currency)),
      h("td", { class: "num", dataset: { net: row.slug, label: "Net" } }, cash(row.net, row.currency)),
      h(
        "td",
        {},
        h(
          "span",
          { class: "row-actions" },
          h("a", { class: "button secondary small", href: rosterHref(row.slug), download: "", "aria-label": `Export roster of ${row.title} (CSV)` }, "Export roster (CSV)"),
          h("button", { type: "button", class: "button ghost small", dataset: { email: row.slug }, "aria-label": `Email students of ${row.title}` }, "Email students"),
        ),
      ),
    );
  }

  function viewingBadge(slug) {
    const text = viewingText(viewing.get(slug));
    return h("span", { class: "badge status-active", dataset: { viewing: slug }, hidden: !text }, text);
  }

  function paintViewing(slug = null) {
    for (const badge of revenue.querySelectorAll("[data-viewing]")) {
      if (slug !== null && badge.dataset.viewing !== slug) continue;
      const text = viewingText(viewing.get(badge.dataset.viewing));
      badge.textContent = text;
      badge.hidden = !text;
    }
  }

  // The published courses among the instructor's (drafts cannot be watched), watched for
  // their `course.presence`; the socket watches them again after a reconnect.
  async function watchCourses() {
    if (!user) return;
    try {
      const page = await api(`/api/courses${query({ instructor: user.id, page_size: WATCH_LIMIT })}`);
      for (const course of page.results ?? []) socket.watch(course.slug);
    } catch {
      // No live counts: the rest of the dashboard works without them.
    }
  }

  function revenueTable(body) {
    const head = ["Course", "Enrollments", "Active", "Completed", "Gross", "Refunds", "Net", "Actions"];
    return h(
      "table",
      { class: "table revenue-table" },
      h("caption", { class: "visually-hidden" }, "Revenue and enrollments per course, with totals per currency"),
      h("thead", {}, h("tr", {}, head.map((name, i) => h("th", { scope: "col", class: i >= 1 && i <= 6 ? "num" : "" }, name)))),
      h("tbody", {}, body.courses.map(revenueRow)),
      h(
        "tfoot",
        {},
        body.totals.map((total) =>
          h(
            "tr",
            { dataset: { total: total.currency } },
            h("th", { scope: "row" }, `Total (${total.currency.toUpperCase()})`),
            h("td", { class: "num", dataset: { label: "Enrollments" } }, String(total.enrollments)),
            h("td", {}, ""),
            h("td", {}, ""),
            h("td", { class: "num", dataset: { label: "Gross" } }, cash(total.gross, total.currency)),
            h("td", { class: "num", dataset: { label: "Refunds" } }, cash(total.refunds, total.currency)),
            h("td", { class: "num", dataset: { label: "Net" } }, cash(total.net, total.currency)),
            h("td", {}, ""),
          ),
        ),
      ),
    );
  }

  async function loadRevenue() {
    revenue.setAttribute("aria-busy", "true");
    try {
      const body = await api("/api/instructor/revenue");
      courses.clear();
      for (const row of body.courses) if (!courses.has(row.slug)) courses.set(row.slug, row);
      $("#stat-courses").textContent = String(courses.size);
      $("#stat-net").textContent = totalsText(body.totals);
      if (!body.courses.length) clear(revenue, emptyState("No courses yet.", "Courses you teach show their revenue here."));
      else clear(revenue, revenueTable(body));
      const chosen = select.value;
      clear(select, [...courses.values()].map((row) => h("option", { value: row.slug }, row.title)));
      if (courses.has(chosen)) select.value = chosen;
      select.disabled = send.disabled = courses.size === 0;
    } catch (error) {
      clear(revenue, errorState(`Revenue could not be loaded: ${error.message}`, loadRevenue));
    } finally {
      revenue.setAttribute("aria-busy", "false");
    }
  }

  async function loadChart() {
    try {
      buckets = bucketsFromAnswer(await api(`/api/instructor/enrollments-per-hour${query({ hours: HOURS })}`));
      drawChart();
    } catch (error) {
      clear(chart, errorState(`The chart could not be loaded: ${error.message}`, loadChart));
      chart.setAttribute("aria-busy", "false");
    }
  }

  function feedItem(enrollment, course, verb, { fresh = true } = {}) {
    const student = enrollment.student ?? {};
    const when = (verb === "completed" ? enrollment.completed_at : enrollment.created_at) || new Date().toISOString();
    const detail = verb === "completed" ? "certificate issued" : enrollment.payment ? money(enrollment.payment.amount, enrollment.payment.currency) : "Free";
    return h(
      "li",
      { class: `feed-item${fresh ? " fresh" : ""}${verb === "completed" ? " completed" : ""}`, dataset: { [verb === "completed" ? "completed" : "enrollment"]: String(enrollment.id) } },
      h("span", { class: "avatar", "aria-hidden": "true" }, initials(student.name || student.email)),
      h(
        "div",
        { class: "feed-body" },
        h("p", {}, h("strong", {}, student.name || student.email || "A student"), ` ${verb} `, h("a", { href: `/courses/${encodeURIComponent(course.slug)}` }, course.title)),
        h("p", { class: "muted small" }, [enrollment.number, detail, h("time", { datetime: when }, timeAgo(when))].flatMap((part, i) => (i ? [" · ", part] : [part]))),
      ),
    );
  }

  function prepend(item) {
    feed.querySelector(".empty-state")?.remove();
    feed.prepend(item);
    while (feed.children.length > 30) feed.lastElementChild.remove();
  }

  function onCreated(frame) {
    const enrollment = frame.enrollment;
    const course = frame.course ?? enrollment?.course;
    if (!enrollment || !course || feed.querySelector(`[data-enrollment="${enrollment.id}"]`)) return;
    buckets = bucketsAdd(buckets, enrollment.created_at || new Date().toISOString());
    drawChart();
    prepend(feedItem(enrollment, course, "enrolled in"));
    loadRevenue(); // the new payment's money and counts, as the server sums them
    const who = enrollment.student?.name || enrollment.student?.email || "A student";
    toast(`${who} enrolled in ${course.title}.`, { title: "New enrollment", tone: "success" });
  }

  function onCompleted(frame) {
    const enrollment = frame.enrollment;
    if (!enrollment?.course || feed.querySelector(`[data-completed="${enrollment.id}"]`)) return;
    prepend(feedItem(enrollment, enrollment.course, "completed"));
    const who = enrollment.student?.name || enrollment.student?.email || "A student";
    toast(`${who} completed ${enrollment.course.title}.`, { title: "Course completed", tone: "success" });
  }

  socket.on("course.presence", (frame) => {
    viewing.set(frame.course, frame.learners);
    paintViewing(frame.course);
  });
  socket.on("status", ({ state }) => {
    if (state !== "offline") return;
    viewing.clear(); // counts the socket can no longer follow; a reconnect tells them anew
    paintViewing();
  });
  socket.on("enrollment.created", (frame) => (loaded ? onCreated(frame) : early.push(frame)));
  socket.on("enrollment.completed", (frame) => (loaded ? onCompleted(frame) : early.push(frame)));

  revenue.addEventListener("click", (event) => {
    const button = event.target.closest("[data-email]");
    if (!button) return;
    select.value = button.dataset.email;
    $("#announce-subject").focus();
    announce(`Email students of ${courses.get(button.dataset.email)?.title ?? "the course"}.`);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.reset();
    status.textContent = "";
    status.className = "announce-status";
    const slug = select.value;
    const subject = $("#announce-subject").value.trim();
    const body = $("#announce-body").value;
    const missing = {};
    if (!slug) missing.course = ["Choose a course."];
    if (!subject) missing.subject = ["Write a subject."];
    if (!body.trim()) missing.body = ["Write a message."];
    if (Object.keys(missing).length) {
      errors.fields(missing);
      return;
    }
    setBusy(send, true, "Sending…");
    try {
      const answer = await api(`/api/courses/${encodeURIComponent(slug)}/announcements`, { method: "POST", body: { subject, body } });
      status.textContent = queuedText(answer.recipients);
      status.classList.add("ok");
      form.reset();
      select.value = slug;
    } catch (error) {
      const shown = errors.fields(fieldMessages(error));
      const wait = error.status === 429 && error.retryAfter ? ` Try again in ${Math.ceil(error.retryAfter / 60)} min.` : "";
      if (!shown.length) {
        status.textContent = `Not sent: ${error.message}${wait}`;
        status.classList.add("error");
      }
    } finally {
      setBusy(send, false);
    }
  });

  setInterval(() => {
    if (!loaded || !buckets.length) return;
    buckets = bucketsAdd(buckets, NaN); // the window slides with the clock
    drawChart();
  }, 60_000);
  setInterval(() => {
    for (const time of feed.querySelectorAll("time")) time.textContent = timeAgo(time.getAttribute("datetime"));
  }, 30_000);
  if (typeof ResizeObserver === "function") {
    let width = 0;
    new ResizeObserver((entries) => {
      const next = Math.round(entries[0].contentRect.width);
      if (buckets.length && next && next !== width) {
        width = next;
        drawChart();
      }
    }).observe(chart);
  }

  // The latest enrollments in the instructor's courses, so the feed opens with what
  // happened before the page did; live ones are added above them.
  async function loadRecent() {
    clear(feed, h("li", { class: "empty-state" }, h("p", { class: "muted" }, "Waiting for the next enrollment…")));
    try {
      const body = await api(`/api/enrollments${query({ page_size: RECENT })}`);
      const items = (body.results ?? []).filter((e) => e.course).map((e) => feedItem(e, e.course, "enrolled in", { fresh: false }));
      if (items.length) clear(feed, ...items);
    } catch {
      // The feed stays waiting: live events still arrive.
    }
  }

  async function load() {
    await Promise.all([loadRevenue(), loadChart(), loadRecent(), watchCourses()]);
    loaded = true;
    for (const frame of early.splice(0)) (frame.type === "enrollment.completed" ? onCompleted : onCreated)(frame);
  }

  return { load };
}
