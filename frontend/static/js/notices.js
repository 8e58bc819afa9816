// Instructor notices: a toast on every page when someone enrolls in, or completes, a
// course the signed-in user teaches (`enrollment.created`, `enrollment.completed`).
//
// - One event, one toast: the socket already drops events the tab has seen (by `seq`, kept
//   in sessionStorage, so a reconnect's or a reload's resume replays nothing shown); the
//   notices also remember which (type, enrollment) they showed, so the same news never
//   toasts twice in a page's life.
// - Events replayed by a resume after time away arrive in a burst: up to MAX_SINGLE of them
//   toast one by one, more become one summary toast.
// - `enrollment.completed` also goes to the student who completed: it is an instructor
//   notice only when someone else completed (the event's student is not this user).
// - The instructor dashboard (/instructor) shows these events in its own feed and toasts
//   them itself (instructor.js): there the notices stay quiet.
//
// The DOM is reached only through `notify` (ui.js toast), so the logic runs in Node.

export const PAGES_WITH_OWN_FEED = Object.freeze(["instructor"]);
export const MAX_SINGLE = 3;

export function studioUrl(slug) {
  return `/studio/courses/${encodeURIComponent(slug)}`;
}

function studentName(enrollment) {
  return enrollment?.student?.name || enrollment?.student?.email || "A student";
}

// The toast for one event, or null when it is no instructor notice for this user.
export function noticeFor(frame, user) {
  const enrollment = frame?.enrollment;
  if (!enrollment || typeof enrollment !== "object") return null;
  if (frame.type === "enrollment.created") {
    const course = frame.course ?? enrollment.course;
    if (!course?.slug) return null;
    return {
      key: `created:${enrollment.id}`,
      message: `${studentName(enrollment)} enrolled in ${course.title}.`,
      title: "New enrollment",
      link: { href: studioUrl(course.slug), text: "Open in studio" },
    };
  }
  if (frame.type === "enrollment.completed") {
    const course = enrollment.course;
    if (!course?.slug) return null;
    const own = user?.email && String(enrollment.student?.email ?? "").toLowerCase() === user.email.toLowerCase();
    if (own) return null; // the student's own completion: their pages say so
    return {
      key: `completed:${enrollment.id}`,
      message: `${studentName(enrollment)} completed ${course.title}.`,
      title: "Course completed",
      link: { href: studioUrl(course.slug), text: "Open in studio" },
    };
  }
  return null;
}

export function summaryFor(notices) {
  const enrolled = notices.filter((n) => n.key.startsWith("created:")).length;
  const completed = notices.length - enrolled;
  const parts = [];
  if (enrolled) parts.push(`${enrolled} new enrollment${enrolled === 1 ? "" : "s"}`);
  if (completed) parts.push(`${completed} completion${completed === 1 ? "" : "s"}`);
  return {
    key: "summary",
    message: `While you were away: ${parts.join(" and ")} in your courses.`,
    title: "Catching up",
    link: { href: "/instructor", text: "Open the dashboard" },
  };
}

export function mountInstructorNotices({ socket, user, page, notify }) {
  if (!user || PAGES_WITH_OWN_FEED.includes(page)) return { shown: new Set() };
  const shown = new Set();
  let burst = [];

  // No link to the page the instructor is already on (the course's own builder).
  const here = (link) => link?.href === globalThis.location?.pathname;
  const show = (notice) =>
    notify(notice.message, { title: notice.title, tone: "success", link: here(notice.link) ? undefined : notice.link });

  function flush() {
    const pending = burst;
    burst = [];
    if (pending.length > MAX_SINGLE) show(summaryFor(pending));
    else pending.forEach(show);
  }

  function receive(frame) {
    const notice = noticeFor(frame, user);
    if (!notice || shown.has(notice.key)) return;
    shown.add(notice.key);
    // While a resume replays what the tab missed, gather; resume.done shows the lot.
    if (socket.resuming) burst.push(notice);
    else show(notice);
  }

  socket.on("enrollment.created", receive);
  socket.on("enrollment.completed", receive);
  socket.on("resume.done", flush);
  socket.on("close", flush); // a resume cut short still shows what it brought
  return { shown };
}
