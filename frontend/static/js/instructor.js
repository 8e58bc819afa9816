// The instructor dashboard: a live feed of `enrollment.created` and `enrollment.completed`
// events (toast + list), an enrollments-per-hour chart, per-course rosters and seat counts,
// all without reloads.

import { api, query } from "./api.js";
import { chartSummary, hourlyBuckets, renderBarChart } from "./chart.js";
import { $, clear, dateTime, emptyState, errorState, h, isLive, money, progressBar, statusBadge, timeAgo, toast } from "./ui.js";

const DAY = 24 * 3600_000;
const MAX_PAGES = 10;

export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? "?") + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

export function mountInstructor({ socket, user }) {
  const courses = new Map(); // slug → course (seats kept current)
  const timestamps = [];
  const feed = $("#feed");
  const chart = $("#chart");
  const select = $("#roster-course");
  const roster = $("#roster");
  const more = $("#roster-more");
  let rosterPage = 1;
  let rosterGeneration = 0;
  let loaded = false;
  const early = [];

  function drawChart() {
    const buckets = hourlyBuckets(timestamps);
    renderBarChart(chart, buckets);
    chart.setAttribute("aria-busy", "false");
    $("#chart-summary").textContent = chartSummary(buckets);
    const now = Date.now();
    $("#stat-hour").textContent = String(timestamps.filter((t) => now - new Date(t).getTime() < 3600_000).length);
    $("#stat-day").textContent = String(timestamps.filter((t) => now - new Date(t).getTime() < DAY).length);
  }

  function drawCourseStats() {
    $("#stat-courses").textContent = String(courses.size);
    const taken = [...courses.values()].reduce((n, c) => n + (c.seats_taken ?? 0), 0);
    $("#stat-seats").textContent = String(taken);
  }

  function courseLabel(course) {
    const seats = course.capacity === null || course.capacity === undefined ? `${course.seats_taken} enrolled` : `${course.seats_taken}/${course.capacity} seats`;
    return `${course.title} (${seats})`;
  }

  function feedItem(enrollment, course, { fresh = false } = {}) {
    const student = enrollment.student ?? {};
    const amount = enrollment.payment ? money(enrollment.payment.amount, enrollment.payment.currency) : "Free";
    return h(
      "li",
      { class: `feed-item${fresh ? " fresh" : ""}`, dataset: { enrollment: String(enrollment.id) } },
      h("span", { class: "avatar", "aria-hidden": "true" }, initials(student.name || student.email)),
      h(
        "div",
        { class: "feed-body" },
        h("p", {}, h("strong", {}, student.name || student.email || "A student"), " enrolled in ", h("a", { href: `/courses/${encodeURIComponent(course.slug)}` }, course.title)),
        h("p", { class: "muted small" }, [enrollment.number, amount, h("time", { datetime: enrollment.created_at }, timeAgo(enrollment.created_at))].flatMap((part, i) => (i ? [" · ", part] : [part]))),
      ),
    );
  }

  function completedItem(enrollment) {
    const student = enrollment.student ?? {};
    const course = enrollment.course;
    const when = enrollment.completed_at || new Date().toISOString();
    return h(
      "li",
      { class: "feed-item fresh completed", dataset: { completed: String(enrollment.id) } },
      h("span", { class: "avatar", "aria-hidden": "true" }, initials(student.name || student.email)),
      h(
        "div",
        { class: "feed-body" },
        h("p", {}, h("strong", {}, student.name || student.email || "A student"), " completed ", h("a", { href: `/courses/${encodeURIComponent(course.slug)}` }, course.title)),
        h("p", { class: "muted small" }, [enrollment.number, "certificate issued", h("time", { datetime: when }, timeAgo(when))].flatMap((part, i) => (i ? [" · ", part] : [part]))),
      ),
    );
  }

  function rosterRow(enrollment) {
    const student = enrollment.student ?? {};
    return h(
      "tr",
      { dataset: { enrollment: String(enrollment.id) } },
      h("td", {}, h("span", { class: "cell-main" }, student.name || "—"), h("span", { class: "cell-sub muted small" }, student.email)),
      h("td", { class: "nowrap" }, enrollment.number),
      h("td", {}, statusBadge(enrollment.status)),
      h("td", { class: "progress-cell" }, progressBar(enrollment.progress?.percent ?? 0, `Progress of ${student.name || student.email}`), h("span", { class: "small muted" }, `${Math.round(enrollment.progress?.percent ?? 0)}%`)),
      h("td", { class: "nowrap small" }, dateTime(enrollment.created_at)),
    );
  }

  function rosterTable(rows, course) {
    return h(
      "table",
      { class: "table" },
      h("caption", { class: "visually-hidden" }, `Students enrolled in ${course.title}`),
      h("thead", {}, h("tr", {}, ["Student", "Enrollment", "Status", "Progress", "Enrolled"].map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, rows),
    );
  }

  function drawSeats(course) {
    if (!course) return;
    $("#roster-seats").textContent =
      course.capacity === null || course.capacity === undefined
        ? `${course.seats_taken} enrolled · unlimited seats`
        : `${course.seats_taken} of ${course.capacity} seats taken`;
  }

  async function loadRoster({ append = false } = {}) {
    const slug = select.value;
    const course = courses.get(slug);
    if (!course) {
      clear(roster, emptyState("No courses yet.", "Courses you teach will show their rosters here."));
      return;
    }
    const mine = append ? rosterGeneration : ++rosterGeneration;
    if (!append) {
      rosterPage = 1;
      clear(roster, h("p", { class: "muted" }, "Loading roster…"));
    }
    drawSeats(course);
    more.hidden = true;
    try {
      const page = await api(`/api/enrollments${query({ course: slug, page: rosterPage, page_size: 25 })}`);
      if (mine !== rosterGeneration) return;
      if (!append) {
        if (!page.results.length) {
          clear(roster, emptyState("Nobody has enrolled yet.", "New students appear here live."));
          return;
        }
        clear(roster, rosterTable(page.results.map(rosterRow), course));
      } else {
        $("tbody", roster)?.append(...page.results.map(rosterRow));
      }
      rosterPage += 1;
      more.hidden = !page.next;
    } catch (error) {
      if (mine === rosterGeneration) clear(roster, errorState(`The roster could not be loaded: ${error.message}`, () => loadRoster()));
    }
  }

  function onCreated(frame) {
    const enrollment = frame.enrollment;
    const course = frame.course ?? enrollment?.course;
    if (!enrollment || !course) return;
    if (feed.querySelector(`[data-enrollment="${enrollment.id}"]`)) return;
    timestamps.push(enrollment.created_at || new Date().toISOString());
    drawChart();
    feed.querySelector(".empty-state")?.remove();
    feed.prepend(feedItem(enrollment, course, { fresh: true }));
    while (feed.children.length > 30) feed.lastElementChild.remove();

    const known = courses.get(course.slug);
    if (known) {
      known.seats_taken = course.seats_taken ?? known.seats_taken + 1;
      if (course.capacity !== undefined) known.capacity = course.capacity;
      const option = [...select.options].find((o) => o.value === course.slug);
      if (option) option.textContent = courseLabel(known);
      drawCourseStats();
      if (select.value === course.slug) {
        drawSeats(known);
        const body = $("tbody", roster);
        if (body) body.prepend(rosterRow(enrollment));
        else clear(roster, rosterTable([rosterRow(enrollment)], known));
      }
    }
    const who = enrollment.student?.name || enrollment.student?.email || "A student";
    toast(`${who} enrolled in ${course.title}.`, { title: "New enrollment", tone: "success" });
  }

  function onCompleted(frame) {
    const enrollment = frame.enrollment;
    if (!enrollment?.course) return;
    if (!feed.querySelector(`[data-completed="${enrollment.id}"]`)) {
      feed.querySelector(".empty-state")?.remove();
      feed.prepend(completedItem(enrollment));
      while (feed.children.length > 30) feed.lastElementChild.remove();
    }
    // The roster row shows the new status and progress in place.
    roster.querySelector(`tr[data-enrollment="${enrollment.id}"]`)?.replaceWith(rosterRow(enrollment));
    const who = enrollment.student?.name || enrollment.student?.email || "A student";
    toast(`${who} completed ${enrollment.course.title}.`, { title: "Course completed", tone: "success" });
  }

  socket.on("enrollment.created", (frame) => {
    if (loaded) onCreated(frame);
    else early.push(frame);
  });
  socket.on("enrollment.completed", (frame) => {
    if (loaded) onCompleted(frame);
    else early.push(frame);
  });

  async function recentEnrollments() {
    const since = Date.now() - DAY;
    const found = [];
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const answer = await api(`/api/enrollments${query({ page, page_size: 100 })}`);
      found.push(...answer.results);
      const last = answer.results[answer.results.length - 1];
      if (!answer.next || !last || new Date(last.created_at).getTime() < since) break;
    }
    return found;
  }

  async function load() {
    try {
      const [courseList, recent] = await Promise.all([
        api(`/api/courses${query({ instructor: user.id, page_size: 100, sort: "title" })}`),
        recentEnrollments(),
      ]);
      for (const course of courseList.results) courses.set(course.slug, course);
      drawCourseStats();
      clear(select, [...courses.values()].map((course) => h("option", { value: course.slug }, courseLabel(course))));
      select.disabled = courses.size === 0;
      // Open on the busiest course's roster.
      const busiest = [...courses.values()].reduce((best, c) => (!best || c.seats_taken > best.seats_taken ? c : best), null);
      if (busiest) select.value = busiest.slug;

      for (const enrollment of recent) {
        if (isLive(enrollment.status)) timestamps.push(enrollment.created_at);
      }
      drawChart();
      const latest = recent.filter((e) => isLive(e.status)).slice(0, 8);
      if (latest.length) clear(feed, latest.map((e) => feedItem(e, e.course)));
      else clear(feed, h("li", { class: "empty-state" }, h("p", { class: "muted" }, "Waiting for the next enrollment…")));
    } catch (error) {
      clear(chart, errorState(`The dashboard could not be loaded: ${error.message}`, load));
      chart.setAttribute("aria-busy", "false");
      return;
    }
    loaded = true;
    for (const frame of early.splice(0)) (frame.type === "enrollment.completed" ? onCompleted : onCreated)(frame);
    await loadRoster();
  }

  select.addEventListener("change", () => loadRoster());
  more.addEventListener("click", () => loadRoster({ append: true }));
  if (typeof ResizeObserver === "function") {
    let width = 0;
    new ResizeObserver((entries) => {
      const next = Math.round(entries[0].contentRect.width);
      if (loaded && next && next !== width) {
        width = next;
        drawChart();
      }
    }).observe(chart);
  }
  setInterval(() => loaded && drawChart(), 60_000); // the window slides with the clock
  setInterval(() => {
    for (const time of feed.querySelectorAll("time")) time.textContent = timeAgo(time.getAttribute("datetime"));
  }, 30_000);

  return { load };
}
