"""Instructor notices on every page, in Chromium: a student's enrollment and completion
toast live on the instructor's open page (home, a course page), once each, linking the
course's studio; the dashboard's own feed toasts once too; nothing replays after a
reconnect or a reload; the student's page gets no instructor toast. And the course page as
its instructor sees it ("Edit course", no enrollment form, the draft state) and the staff's
"Admin" link, axe-clean at 1280 and 375 px."""

import pytest
from playwright.sync_api import expect

from enrollment.models import Enrollment
from portal.events.models import UserEvent
from tests.e2e.conftest import check_both_widths, sign_in, wait_live
from tests.e2e.data import enroll, enroll_guest, lesson_ids, record_progress
from tests.factories import PASSWORD, make_course, make_instructor, make_user

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Every toast a page ever shows, recorded as it is added (toasts leave after a while: the
# record does not depend on how fast the test looks).
RECORD_TOASTS = """
window.__toasts = [];
document.addEventListener("DOMContentLoaded", () => {
  const region = document.getElementById("toasts");
  if (!region) return;
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (!(node instanceof HTMLElement) || !node.classList.contains("toast")) continue;
        const link = node.querySelector("a");
        const body = node.querySelector(".toast-body") || node;
        window.__toasts.push({ text: body.textContent, href: link && link.getAttribute("href") });
      }
    }
  }).observe(region, { childList: true });
});
"""

# The signed-in student enrolls through the HTTP API from their page.
ENROLL = """async (course) => {
  const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
  const answer = await fetch("/api/enrollments", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify({ course }),
  });
  return [answer.status, await answer.json()];
}"""

ENROLLED = "Ada Lovelace enrolled in Intro to Python."
COMPLETED = "Ada Lovelace completed Intro to Python."


@pytest.fixture
def teaching():
    teacher = make_instructor(email="grace@example.com", name="Grace Hopper")
    course = make_course(
        title="Intro to Python",
        slug="intro-to-python",
        instructor=teacher,
        capacity=25,
        modules=1,
        lessons_per_module=2,
    )
    draft = make_course(
        title="Rust Drafts",
        slug="rust-drafts",
        instructor=teacher,
        published=False,
        modules=1,
        lessons_per_module=1,
    )
    make_user(email="ada@example.com", name="Ada Lovelace")
    make_user(email="stella@example.com", name="Stella Staff", is_staff=True)
    return {"course": course, "draft": draft}


def recording_page(new_page):
    page = new_page()
    page.context.add_init_script(RECORD_TOASTS)
    return page


def toasts(page) -> list[dict]:
    return page.evaluate("window.__toasts")


def texts(page) -> list[str]:
    return [toast["text"] for toast in toasts(page)]


def wait_for_seq(page, seq: int) -> None:
    page.wait_for_function(f"window.portal.socket.lastSeq >= {seq}")


def test_enrollments_and_completions_toast_once_on_any_instructor_page(new_page, teaching):
    course = teaching["course"]
    teacher = recording_page(new_page)
    sign_in(teacher, "grace@example.com", PASSWORD, next_path="/")
    wait_live(teacher)
    dashboard = new_page(context=teacher.context)  # a second tab: the instructor dashboard
    dashboard.goto("/instructor")
    wait_live(dashboard)
    expect(dashboard.locator("#feed .empty-state")).to_be_visible()
    for tab in (teacher, dashboard):
        tab.evaluate("window.__noReload = true")

    student = recording_page(new_page)
    sign_in(student, "ada@example.com", PASSWORD, next_path="/")
    wait_live(student)
    student_seq = student.evaluate("window.portal.socket.lastSeq")

    status, answer = student.evaluate(ENROLL, course.slug)
    assert status == 201 and answer["status"] == "active"

    # The home page toasts it, live, with a link to the course's studio.
    toast = teacher.locator(".toast", has_text=ENROLLED)
    expect(toast).to_be_visible()
    expect(toast.get_by_role("link", name="Open in studio")).to_have_attribute(
        "href", "/studio/courses/intro-to-python"
    )
    # The toast sits in the page's polite live region: screen readers announce it.
    region = teacher.locator("#toasts")
    expect(region).to_have_attribute("role", "status")
    expect(region).to_have_attribute("aria-live", "polite")
    # The dashboard's feed shows it, and the dashboard toasts it once (not twice).
    expect(dashboard.locator("#feed .feed-item").first).to_contain_text(ENROLLED.rstrip("."))
    expect(dashboard.locator(".toast", has_text=ENROLLED)).to_have_count(1)

    # Completing the course toasts too.
    first, last = lesson_ids(course)
    enrollment = Enrollment.objects.get(pk=answer["id"])
    record_progress(enrollment, first, completed=True)
    record_progress(enrollment, last, completed=True)
    expect(teacher.locator(".toast", has_text=COMPLETED)).to_be_visible()
    expect(dashboard.locator("#feed .feed-item.completed")).to_contain_text(COMPLETED.rstrip("."))

    # A student's page: their own enrollment and completion reached it (every event of
    # theirs, `enrollment.completed` included), and no instructor toast came with them.
    mine = UserEvent.objects.filter(user__email="ada@example.com")
    assert mine.filter(type="enrollment.completed", seq__gt=student_seq).exists()
    student_seq = mine.latest("seq").seq
    wait_for_seq(student, student_seq)
    assert not [t for t in texts(student) if "enrolled in" in t or "completed Intro" in t]

    # A reconnect: what happened while the socket was down toasts once; nothing shown
    # before comes back.
    teacher.evaluate("window.portal.socket.close()")
    expect(teacher.locator("#connection")).not_to_have_attribute("data-state", "live")
    enroll_guest(course, "alan@example.com", "Alan Turing")
    teacher.evaluate("window.portal.socket.connect()")
    wait_live(teacher)
    expect(
        teacher.locator(".toast", has_text="Alan Turing enrolled in Intro to Python.")
    ).to_be_visible()
    seq_after = teacher.evaluate("window.portal.socket.lastSeq")
    assert texts(teacher) == [
        f"New enrollment{ENROLLED}Open in studio",
        f"Course completed{COMPLETED}Open in studio",
        "New enrollmentAlan Turing enrolled in Intro to Python.Open in studio",
    ]
    assert [t["href"] for t in toasts(teacher)] == ["/studio/courses/intro-to-python"] * 3
    assert teacher.evaluate("window.__noReload") is True  # all live, no reload

    dashboard_texts = [t for t in texts(dashboard) if "Intro to Python" in t]
    assert len(dashboard_texts) == 3, dashboard_texts  # one event, one toast there too

    # A reload resumes after the last seq shown: no toast is replayed.
    teacher.reload()
    wait_live(teacher)
    expect(teacher.locator("#course-grid .course-card").first).to_be_visible()
    assert teacher.evaluate("window.portal.socket.lastSeq") == seq_after
    assert toasts(teacher) == []

    # Later events still toast after the reload; the student still hears none of them.
    enroll(make_user(email="kj@example.com", name="Katherine Johnson"), course)
    expect(teacher.locator(".toast", has_text="Katherine Johnson enrolled")).to_be_visible()
    assert len(toasts(teacher)) == 1
    assert not [t for t in texts(student) if "enrolled in" in t or "completed Intro" in t]
    assert student.evaluate("window.portal.socket.lastSeq") == student_seq


def test_the_course_page_as_its_instructor_and_the_staff_admin_link(new_page, console, teaching):
    console.allow(
        "/courses/rust-drafts: Failed to load resource: the server responded with a status of 404"
    )
    course = teaching["course"]
    teacher = recording_page(new_page)
    sign_in(teacher, "grace@example.com", PASSWORD, next_path="/courses/intro-to-python")
    wait_live(teacher)
    card = teacher.locator("#author-card")
    expect(card).to_be_visible()
    expect(card.get_by_role("heading", name="You teach this course")).to_be_visible()
    expect(card.locator("#course-state")).to_have_text("Published")
    expect(card.get_by_role("link", name="Edit course")).to_have_attribute(
        "href", "/studio/courses/intro-to-python"
    )
    expect(card.locator("#seats")).to_have_text("25 of 25 seats left")
    expect(teacher.locator("#enroll-form")).to_have_count(0)
    expect(teacher.get_by_role("button", name="Enroll")).to_have_count(0)
    expect(teacher.get_by_role("link", name="Admin")).to_have_count(0)
    check_both_widths(teacher, "course-instructor")

    # A student enrolls meanwhile: the course page toasts it and its seats move.
    enroll(make_user(email="ada2@example.com", name="Ada Lovelace"), course)
    teacher.locator(".toast", has_text=ENROLLED).hover()  # held open while looked at
    expect(card.locator("#seats")).to_have_text("24 of 25 seats left")
    check_both_widths(teacher, "course-instructor-toast")
    assert len(toasts(teacher)) == 1

    # Its draft: shown to its instructor as a draft.
    teacher.goto("/courses/rust-drafts")
    wait_live(teacher)
    expect(teacher.locator("#course-state")).to_have_text("Draft")
    expect(teacher.locator("#seats")).to_contain_text("Draft · enrollment opens when you publish")
    expect(teacher.locator("h1")).to_have_text("Rust Drafts")
    check_both_widths(teacher, "course-draft-instructor")

    # A student: the enrollment form, no "Edit course", and no draft.
    student = new_page()
    sign_in(student, "ada@example.com", PASSWORD, next_path="/courses/intro-to-python")
    wait_live(student)
    expect(student.locator("#enroll-form")).to_be_visible()
    expect(student.get_by_role("link", name="Edit course")).to_have_count(0)
    expect(student.get_by_role("link", name="Admin")).to_have_count(0)
    response = student.goto("/courses/rust-drafts")
    assert response.status == 404
    expect(student.locator("h1")).to_have_text("Course not found")
    check_both_widths(student, "course-draft-student")

    # Staff: the Admin link in the header, and "Edit course" on any course.
    staff = new_page()
    sign_in(staff, "stella@example.com", PASSWORD, next_path="/courses/intro-to-python")
    wait_live(staff)
    admin = staff.get_by_role("navigation", name="Main").get_by_role("link", name="Admin")
    expect(admin).to_have_attribute("href", "/admin/")
    expect(staff.locator("#author-card")).to_contain_text("Staff view")
    expect(staff.get_by_role("link", name="Edit course")).to_be_visible()
    check_both_widths(staff, "course-staff")
