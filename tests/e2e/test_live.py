"""Live updates in the browser: two tabs of one student, the instructor's feed, and a
server restart that the page rides out with `resume`."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in, wait_live
from tests.e2e.data import enroll, lesson_ids, record_progress
from tests.factories import PASSWORD, make_course, make_instructor, make_user
from tests.instructor.helpers import make_enrollment, make_student

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def student():
    return make_user(email="sam@example.com", name="Sam Student")


@pytest.fixture
def course():
    return make_course(
        title="Observability Basics",
        slug="observability-basics",
        price="0.00",
        modules=2,
        lessons_per_module=2,
    )


def test_completing_a_lesson_in_one_tab_moves_the_progress_bar_in_the_other(
    new_page, student, course
):
    enrollment = enroll(student, course)
    first, second, *_ = lesson_ids(course)
    dashboard = new_page()
    sign_in(dashboard, "sam@example.com", PASSWORD, next_path="/dashboard")
    wait_live(dashboard)
    card = dashboard.locator(f'[data-enrollment="{enrollment.pk}"]')
    expect(card.locator(".progress-label")).to_have_text("0 of 4 lessons · 0%")

    lesson = new_page(context=dashboard.context)  # a second tab of the same session
    lesson.goto(f"/learn/{enrollment.pk}/{first}")
    wait_live(lesson)
    expect(lesson.locator("#lesson-title")).to_have_text("Lesson 1")
    lesson.click("#complete")
    expect(lesson.locator("#complete")).to_have_attribute("aria-pressed", "true")
    expect(lesson.locator("#course-progress-label")).to_have_text("1 of 4 lessons · 25%")

    # The other tab moved without a reload.
    expect(card.locator(".progress-label")).to_have_text("1 of 4 lessons · 25%")
    assert card.locator("progress").evaluate("bar => bar.value") == 25
    expect(card.get_by_role("link", name="Continue")).to_be_visible()

    # "Continue" opens the last lesson opened.
    lesson.goto(f"/learn/{enrollment.pk}/{second}")
    wait_live(lesson)
    expect(lesson.locator("#lesson-title")).to_have_text("Lesson 2")
    lesson.goto(f"/learn/{enrollment.pk}")
    expect(lesson).to_have_url(re.compile(rf"/learn/{enrollment.pk}/{second}$"))
    expect(lesson.locator("#lesson-title")).to_have_text("Lesson 2")


def test_the_instructor_dashboard_shows_a_new_enrollment_without_a_reload(new_page):
    instructor = make_instructor(email="ivy@example.com", name="Ivy Instructor")
    course = make_course(
        title="Terraform Foundations",
        slug="terraform-foundations",
        price="29.00",
        capacity=10,
        instructor=instructor,
    )
    make_enrollment(  # before the page opened: the feed starts with it
        course,
        student=make_student(name="Earl Early"),
        created_at=timezone.now() - timedelta(days=2),
    )
    page = new_page()
    sign_in(page, "ivy@example.com", PASSWORD, next_path="/instructor")
    wait_live(page)
    feed = page.locator("#feed .feed-item")
    expect(feed).to_have_count(1)
    expect(feed.first).to_contain_text("Earl Early enrolled in Terraform Foundations")
    expect(page.locator("#chart svg")).to_be_visible()
    expect(page.locator("#stat-day")).to_have_text("0")
    net = page.locator('#revenue [data-net="terraform-foundations"]')
    expect(net).to_have_text("$0.00")
    page.evaluate("window.__noReload = true")

    guest = new_page()  # another browser context: a guest enrolls
    guest.goto("/courses/terraform-foundations")
    guest.fill("#student-name", "Grace Guest")
    guest.fill("#student-email", "grace@example.com")
    guest.click("#enroll-submit")
    expect(guest.locator("#enroll-result")).to_have_attribute("data-status", "active")

    expect(page.locator(".toast")).to_contain_text("Grace Guest enrolled in Terraform Foundations")
    expect(feed.first).to_contain_text("Grace Guest enrolled in Terraform Foundations")
    expect(feed.nth(1)).to_contain_text("Earl Early")
    expect(net).to_have_text("$29.00")  # the revenue table, summed again by the server
    expect(page.locator("#stat-day")).to_have_text("1")
    expect(page.locator("#chart .bar:not(.empty)")).to_have_count(1)
    assert page.evaluate("window.__noReload") is True


def test_after_a_server_restart_the_page_resumes_and_shows_what_happened_meanwhile(
    new_page, server, console, student, course
):
    # While the server is down the socket fails to reconnect; that is the point.
    console.allow("WebSocket connection to", "ERR_CONNECTION_REFUSED")
    enrollment = enroll(student, course)
    first, *_ = lesson_ids(course)
    page = new_page()
    sign_in(page, "sam@example.com", PASSWORD, next_path="/dashboard")
    wait_live(page)
    card = page.locator(f'[data-enrollment="{enrollment.pk}"]')
    expect(card.locator(".progress-label")).to_have_text("0 of 4 lessons · 0%")
    seq_before = page.evaluate("window.portal.socket.lastSeq")
    page.evaluate("window.__noReload = true")

    server.stop()
    expect(page.locator("#connection")).to_have_attribute("data-state", "offline")
    expect(page.locator("#connection")).to_contain_text("Offline")

    # Progress recorded elsewhere while this page cannot hear about it.
    record_progress(enrollment, first, completed=True, position=60)

    server.start()
    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=30_000)
    expect(card.locator(".progress-label")).to_have_text("1 of 4 lessons · 25%")
    assert page.evaluate("window.__noReload") is True  # resumed, not reloaded
    assert page.evaluate("window.portal.socket.lastSeq") == seq_before + 1


# Records the frames the page sends on its socket.
SPY_SENT = """
window.__sent = [];
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  window.__sent.push(JSON.parse(data));
  return send.call(this, data);
};
"""


def test_a_reload_resumes_from_the_seq_kept_in_session_storage(new_page, student, course):
    enrollment = enroll(student, course)
    first, *_ = lesson_ids(course)
    page = new_page()
    page.context.add_init_script(SPY_SENT)
    sign_in(page, "sam@example.com", PASSWORD, next_path="/dashboard")
    wait_live(page)
    seq = page.evaluate("window.portal.socket.lastSeq")
    assert page.evaluate(f"sessionStorage.getItem('portal.seq.{student.pk}')") == str(seq)
    assert [f for f in page.evaluate("window.__sent") if f["type"] == "resume"] == []

    page.goto("about:blank")  # the tab leaves; an event happens meanwhile
    record_progress(enrollment, first, completed=True, position=10)
    page.goto("/dashboard")
    wait_live(page)
    card = page.locator(f'[data-enrollment="{enrollment.pk}"]')
    expect(card.locator(".progress-label")).to_have_text("1 of 4 lessons · 25%")
    resumes = [f for f in page.evaluate("window.__sent") if f["type"] == "resume"]
    assert resumes == [{"type": "resume", "after": seq}]
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    assert page.evaluate("window.portal.socket.lastSeq") == seq + 1
