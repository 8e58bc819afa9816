// The studio's home: the caller's courses (drafts included) with their state and counts.

import { api } from "../api.js";
import { boot } from "../app.js";
import { $, clear, emptyState, errorState, h, levelLabel, money, timeAgo } from "../ui.js";

boot();
const root = $("#studio-courses");

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function courseCard(course) {
  const state = course.published ? "Published" : "Draft";
  return h(
    "li",
    { class: "card studio-course", dataset: { slug: course.slug } },
    h(
      "div",
      { class: "studio-course-head" },
      h("h3", {}, h("a", { href: `/studio/courses/${encodeURIComponent(course.slug)}` }, course.title)),
      h("span", { class: `badge studio-state ${course.published ? "published" : "draft"}` }, state),
    ),
    h("p", { class: "muted small" }, [course.category, levelLabel(course.level), money(course.price, course.currency)].filter(Boolean).join(" · ")),
    h(
      "p",
      { class: "studio-counts" },
      [plural(course.modules_count ?? 0, "module"), plural(course.lessons_count ?? 0, "lesson"), plural(course.enrollment_count ?? 0, "student")].join(" · "),
    ),
    course.updated_at ? h("p", { class: "muted small" }, "Changed ", h("time", { datetime: course.updated_at }, timeAgo(course.updated_at))) : null,
  );
}

async function load() {
  root.setAttribute("aria-busy", "true");
  try {
    const page = await api("/api/studio/courses");
    if (!page.results.length) {
      clear(root, emptyState("No courses yet", "Create your first course: it starts as a draft only you can see.", h("a", { class: "button primary", href: "/studio/new" }, "New course")));
    } else {
      clear(root, h("ul", { class: "studio-course-list" }, page.results.map(courseCard)));
    }
  } catch (error) {
    clear(root, errorState(`Your courses could not be loaded: ${error.message}`, load));
  } finally {
    root.setAttribute("aria-busy", "false");
  }
}

load();
