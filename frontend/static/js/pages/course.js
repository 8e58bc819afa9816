// A course page: outline, price, instructor, live seats and learners here now, the
// enrollment form (or, for its instructors and staff, the author card with "Edit course").
// The server renders the course in the same markup (frontend/course_page.py), so the page
// reads before this runs; the fresh answer is rendered over it without moving anything.

import { api, query } from "../api.js";
import { boot } from "../app.js";
import { mountEnrollForm } from "../enroll.js";
import { mountCoursePresence } from "../presence.js";
import { mountWaitlist } from "../waitlist.js";
import { $, clear, errorState, h, hasAccess, isLive, LESSON_KIND_LABELS, levelLabel, minutesLabel, money, seatsText } from "../ui.js";

const { user, socket } = boot();
const root = $("#course-root");
const slug = root.dataset.slug;
const stripeKey = document.querySelector('meta[name="stripe-key"]')?.content || "";

function header(course) {
  const lessons = course.modules.reduce((n, m) => n + m.lessons.length, 0);
  const seconds = course.modules.reduce((n, m) => n + m.lessons.reduce((s, l) => s + l.duration_seconds, 0), 0);
  const facts = [
    course.instructor ? h("span", {}, "Taught by ", h("strong", {}, course.instructor.name)) : null,
    course.rating !== null && course.rating !== undefined ? h("span", { "aria-label": `Rated ${course.rating} out of 5` }, `★ ${Number(course.rating).toFixed(1)}`) : null,
    h("span", {}, `${lessons} lesson${lessons === 1 ? "" : "s"}`),
    seconds ? h("span", {}, minutesLabel(seconds)) : null,
  ].filter(Boolean);
  return [
    h("div", { class: "chips" }, h("span", { class: "chip" }, course.category), h("span", { class: `chip level-${course.level}` }, levelLabel(course.level))),
    h("h1", { class: "course-title" }, course.title),
    h("p", { class: "lede" }, course.summary),
    h("p", { class: "facts" }, facts.flatMap((fact, i) => (i ? [h("span", { class: "dot-sep", "aria-hidden": "true" }, "·"), fact] : [fact]))),
  ];
}

// The outline's lesson titles: preview lessons open for anyone; once the visitor may learn
// the course (`learning`: their enrollment's id), every lesson opens in the lesson page.
function lessonTitle(lesson, learning) {
  if (learning) return h("span", {}, h("a", { href: `/learn/${learning}/${lesson.id}` }, lesson.title));
  if (!lesson.preview) return h("span", {}, lesson.title);
  return h("span", {}, h("a", { href: `/lessons/${lesson.id}`, class: "preview-link" }, lesson.title), " ", h("span", { class: "chip preview-chip" }, "Free preview"));
}

function curriculum(course, learning = null) {
  if (!course.modules.length) return [h("p", { class: "muted" }, "The outline for this course is being prepared.")];
  return course.modules.map((module, index) => {
    const seconds = module.lessons.reduce((s, l) => s + l.duration_seconds, 0);
    return h(
      "details",
      { class: "module", open: index === 0 },
      h(
        "summary",
        {},
        h("span", { class: "module-title" }, module.title),
        h("span", { class: "muted small" }, `${module.lessons.length} lesson${module.lessons.length === 1 ? "" : "s"} · ${minutesLabel(seconds)}`),
      ),
      h(
        "ol",
        { class: "lessons" },
        module.lessons.map((lesson) =>
          h(
            "li",
            {},
            lessonTitle(lesson, learning),
            h("span", { class: "muted small" }, [LESSON_KIND_LABELS[lesson.kind], minutesLabel(lesson.duration_seconds)].filter(Boolean).join(" · ")),
          ),
        ),
      ),
    );
  });
}

// The outline, again: modules the visitor opened (or closed) stay so.
function renderCurriculum(course, learning = null) {
  const open = [...document.querySelectorAll("#curriculum details")].map((d) => d.open);
  clear($("#curriculum"), curriculum(course, learning));
  document.querySelectorAll("#curriculum details").forEach((d, i) => (d.open = open[i] ?? d.open));
}

function renderSeats(seatsTaken, capacity, form, line) {
  const seats = $("#seats");
  // A draft (only its authors see it) takes no enrollment yet, whatever its capacity.
  const draft = $("#author-card")?.dataset.published === "false";
  const limit = capacity === null || capacity === undefined ? "unlimited seats" : `${capacity} seat${capacity === 1 ? "" : "s"}`;
  seats.textContent = draft ? `Draft · enrollment opens when you publish (${limit})` : seatsText(seatsTaken, capacity);
  seats.classList.toggle("draft", draft);
  const full = capacity !== null && capacity !== undefined && seatsTaken >= capacity;
  seats.classList.toggle("full", full);
  seats.classList.toggle("low", !full && capacity !== null && capacity !== undefined && capacity - seatsTaken <= 5);
  form?.seats(full);
  line?.seats(full);
}

async function existingEnrollment() {
  if (!user) return null;
  try {
    const page = await api(`/api/enrollments${query({ role: "student", course: slug })}`);
    return page.results.find((e) => isLive(e.status)) ?? null;
  } catch {
    return null;
  }
}

async function load() {
  const main = $(".course-main");
  let course;
  try {
    course = await api(`/api/courses/${encodeURIComponent(slug)}`);
  } catch (error) {
    main.setAttribute("aria-busy", "false");
    const message = error.status === 404 ? "This course does not exist or is no longer published." : `The course could not be loaded: ${error.message}`;
    clear($("#course-header"), h("h1", {}, error.status === 404 ? "Course not found" : "Something went wrong"), errorState(message, error.status === 404 ? null : load));
    // The server's rendering of the course goes with it (a retry that loads shows it again).
    for (const part of [$("#about"), $("#curriculum-section"), $("#author-card") ?? $("#enroll-card")]) part.hidden = true;
    return;
  }
  document.title = `${course.title} · Learning Portal`;
  $("#crumb").textContent = course.title;
  clear($("#course-header"), header(course));
  const description = course.description || course.summary;
  clear($("#course-description"), description.split(/\n{2,}/).map((paragraph) => h("p", {}, paragraph)));
  $("#about").hidden = false;
  const lessonCount = course.modules.reduce((n, m) => n + m.lessons.length, 0);
  $("#curriculum-summary").textContent = `${course.modules.length} module${course.modules.length === 1 ? "" : "s"} · ${lessonCount} lesson${lessonCount === 1 ? "" : "s"}`;
  renderCurriculum(course);
  $("#curriculum-section").hidden = false;
  main.setAttribute("aria-busy", "false");

  $("#course-price").textContent = money(course.price, course.currency);
  // A buyer knows the refund rule before paying (the dashboard applies it afterwards).
  const terms = $("#refund-terms");
  if (terms && Number(course.price) > 0) {
    const days = course.refund_days;
    terms.textContent = days
      ? `Full refund if you cancel within ${days} day${days === 1 ? "" : "s"}, having completed at most ${course.refund_max_percent}% of the lessons.`
      : "No refunds once paid.";
    terms.hidden = false;
  }
  // Its instructors and staff get the author card (server-rendered: "Edit course" and the
  // draft/published state) instead of the enrollment form.
  const author = $("#author-card");
  // The lesson titles become links to the lessons.
  const learnFrom = (enrollment) => renderCurriculum(course, enrollment.id);
  let line = null; // the waitlist panel (a full course)
  const onAccess = (enrollment) => {
    line?.enrolled();
    learnFrom(enrollment);
  };
  const form = author
    ? null
    : mountEnrollForm({ form: $("#enroll-form"), course, user, socket, stripeKey, result: $("#enroll-result"), onAccess, onFull: () => line?.seats(true) });
  line = author ? null : mountWaitlist({ panel: $("#waitlist"), course, user, socket, enrollForm: form });
  (author ?? $("#enroll-card")).hidden = false;
  renderSeats(course.seats_taken, course.capacity, form, line);

  socket.on("course.seats", (frame) => {
    if (frame.course === slug) renderSeats(frame.seats_taken, frame.capacity, form, line);
  });
  // How many learners have the course open now; this tab is one when its reader is a
  // signed-in learner (not an author: the server counts neither instructors nor staff).
  mountCoursePresence({ socket, slug, counted: Boolean(user) && !author, after: $("#seats") });
  socket.watch(slug, { present: true });

  if (author) return;
  const mine = await existingEnrollment();
  if (mine) line.enrolled();
  else await line.load();
  if (mine?.status === "pending") {
    // An open checkout (3-D Secure, a declined card): its hold, the bank's check, another
    // card or a cancel, followed live by the form.
    form.resume(mine);
    return;
  }
  if (mine) {
    showAlready(mine);
    form.close();
    if (hasAccess(mine.status)) learnFrom(mine);
    // A pending payment that settles (or fails), or a completion, shows here live.
    socket.on("enrollment.status", (frame) => {
      if (frame.enrollment?.id !== mine.id) return;
      if (!isLive(frame.enrollment.status)) return location.reload();
      showAlready(frame.enrollment);
      if (hasAccess(frame.enrollment.status)) learnFrom(frame.enrollment);
    });
  }
}

function showAlready(enrollment) {
  const already = $("#already");
  const active = hasAccess(enrollment.status);
  const completed = enrollment.status === "completed";
  clear(
    already,
    h("p", {}, completed ? "You completed this course." : active ? "You’re enrolled in this course." : "Your enrollment is waiting for the payment to be confirmed."),
    completed && enrollment.certificate ? h("a", { class: "button primary block", href: enrollment.certificate.url }, "View your certificate") : null,
    active ? h("a", { class: `button ${completed ? "secondary" : "primary"} block`, href: `/learn/${enrollment.id}` }, completed ? "Review the course" : "Continue learning") : null,
  );
  already.classList.toggle("success", active);
  already.classList.toggle("warning", !active);
  already.hidden = false;
  $("#enroll-form").hidden = true;
}

load();
