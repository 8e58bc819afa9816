"""Finishing a course in Chromium: the last lesson completed through the API moves the
enrollment to the dashboard's Completed tab live, in every open tab (and the instructor's
feed hears of it); the certificate page verifies it for anyone, prints, downloads as a
PDF, and axe finds no violation on it. Screenshots at 1280 and 375 px."""

import re

import pytest
from playwright.sync_api import expect

from enrollment.models import Certificate
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import DESKTOP, PHONE, csp_violations, screenshot, sign_in, wait_live
from tests.e2e.data import enroll, lesson_ids, record_progress
from tests.factories import PASSWORD, make_course, make_instructor, make_user

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Completes a lesson through the HTTP API from the page, as the lesson page would.
COMPLETE_LESSON = """async ([enrollment, lesson]) => {
  const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
  const answer = await fetch(`/api/enrollments/${enrollment}/progress`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify({ lesson, completed: true }),
  });
  return [answer.status, await answer.json()];
}"""


@pytest.fixture
def finishing():
    """Sam has completed every lesson of Observability Basics but the last."""
    teacher = make_instructor(email="ivy@example.com", name="Ivy Instructor")
    course = make_course(
        title="Observability Basics: Logs, Metrics and Traces",
        slug="observability-basics",
        instructor=teacher,
        capacity=20,
        modules=1,
        lessons_per_module=3,
    )
    other = make_course(
        title="Terraform Foundations", slug="terraform", modules=1, lessons_per_module=2
    )
    student = make_user(email="sam@example.com", name="Sam Student")
    enrollment = enroll(student, course)
    enroll(student, other)
    *first, last = lesson_ids(course)
    for lesson in first:
        record_progress(enrollment, lesson, completed=True)
    return {"enrollment": enrollment, "last": last}


def test_finishing_a_course_moves_it_to_completed_live_and_its_certificate_verifies(
    new_page, console, finishing
):
    enrollment_id = finishing["enrollment"].pk
    console.allow("/certificates/NOPE-NOPE-NOPE-NOPE: Failed to load resource")

    dashboard = new_page()
    sign_in(dashboard, "sam@example.com", PASSWORD, next_path="/dashboard")
    wait_live(dashboard)
    other_tab = new_page(context=dashboard.context)
    other_tab.goto("/dashboard")
    wait_live(other_tab)
    teacher = new_page()
    sign_in(teacher, "ivy@example.com", PASSWORD, next_path="/instructor")
    wait_live(teacher)
    for tab in (dashboard, other_tab):
        card = tab.locator(f'#enrollments [data-enrollment="{enrollment_id}"]')
        expect(card.locator(".progress-label")).to_have_text("2 of 3 lessons · 67%")
        expect(tab.locator("#count-completed")).to_have_text("0")
        tab.evaluate("window.__noReload = true")

    status, answer = dashboard.evaluate(COMPLETE_LESSON, [enrollment_id, finishing["last"]])
    assert status == 200 and answer["percent"] == 100.0

    code = Certificate.objects.get(enrollment_id=enrollment_id).code
    for tab in (dashboard, other_tab):
        # Moved to the Completed tab without a reload, in both tabs.
        expect(tab.locator(f'#completed [data-enrollment="{enrollment_id}"]')).to_have_count(1)
        expect(tab.locator(f'#enrollments [data-enrollment="{enrollment_id}"]')).to_have_count(0)
        expect(tab.locator("#count-completed")).to_have_text("1")
        expect(tab.locator("#count-learning")).to_have_text("1")
        expect(tab.locator("#stat-completed")).to_have_text("1")
        expect(tab.locator(".toast", has_text="Course completed")).to_be_visible()
        assert tab.evaluate("window.__noReload") is True
    # The instructor's feed heard of it too.
    expect(teacher.locator(f'#feed [data-completed="{enrollment_id}"]')).to_contain_text(
        "Sam Student completed Observability Basics"
    )

    dashboard.get_by_role("tab", name=re.compile("^Completed")).click()
    expect(dashboard.locator("#panel-completed")).to_be_visible()
    expect(dashboard.locator("#panel-learning")).to_be_hidden()
    card = dashboard.locator(f'#completed [data-enrollment="{enrollment_id}"]')
    expect(card.locator(".badge")).to_have_text("Completed")
    expect(card.locator(".progress-label")).to_have_text("3 of 3 lessons · 100%")
    link = card.get_by_role(
        "link", name="View certificate for Observability Basics: Logs, Metrics and Traces"
    )
    expect(link).to_have_attribute("href", f"/certificates/{code}")
    assert dashboard.url.endswith("/dashboard#completed")
    finished = dashboard.locator(".toast", has_text="Course completed")
    finished.locator(".toast-close").click()  # out of the way of the screenshots
    expect(finished).to_have_count(0)
    assert_accessible(dashboard)
    assert csp_violations(dashboard) == []
    screenshot(dashboard, "dashboard-completed")
    dashboard.set_viewport_size(PHONE)
    screenshot(dashboard, "dashboard-completed")
    dashboard.set_viewport_size(DESKTOP)

    link.click()
    expect(dashboard).to_have_url(re.compile(f"/certificates/{code}$"))
    check_certificate_page(dashboard, code)
    with dashboard.expect_download() as download:
        dashboard.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"certificate-{code}.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # Anyone verifies it: a visitor without an account, on a phone.
    visitor = new_page(PHONE)
    visitor.goto(f"/certificates/{code.lower()}")
    check_certificate_page(visitor, code)
    assert visitor.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(visitor, "certificate")
    dashboard.emulate_media(media="print")
    screenshot(dashboard, "certificate-print")
    dashboard.emulate_media(media="screen")
    screenshot(dashboard, "certificate")

    response = visitor.goto("/certificates/NOPE-NOPE-NOPE-NOPE")
    assert response.status == 404
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Certificate not found")
    assert_accessible(visitor)


def check_certificate_page(page, code: str) -> None:
    wait_live(page)
    expect(page.locator("#certificate-name")).to_have_text("Sam Student")
    expect(page.locator("#certificate-course")).to_have_text(
        "Observability Basics: Logs, Metrics and Traces"
    )
    expect(page.locator("#certificate-instructors")).to_have_text("Ivy Instructor")
    expect(page.locator("#certificate-code")).to_have_text(code)
    expect(page.locator("#verified")).to_contain_text("Verified: issued by Learning Portal on")
    verification = page.locator("#verification")
    expect(verification).to_contain_text("Student")
    expect(verification).to_contain_text("Sam Student")
    expect(verification).to_contain_text("Instructor")
    expect(verification).to_contain_text("Ivy Instructor")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    assert csp_violations(page) == []
    assert_accessible(page)
