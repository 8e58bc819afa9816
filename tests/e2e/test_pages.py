"""Every page at desktop (1280x800) and phone (375x812) widths, one visit resized from the
first to the second: screenshots saved to test-artifacts/screenshots/, no sideways
scrolling on the phone, the strict Content-Security-Policy sent and never violated, no
console errors, and no accessibility violation found by axe-core."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_both_widths, sign_in, wait_live
from tests.e2e.data import enroll, enroll_guest, lesson_ids, record_progress
from tests.factories import PASSWORD, make_course, make_instructor, make_user

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portal():
    instructor = make_instructor(email="grace@example.com", name="Grace Hopper")
    python = make_course(
        title="Python for Data Analysis",
        slug="python-for-data-analysis",
        summary="Clean, explore and chart real data sets with pandas and matplotlib.",
        description="Hands-on from the first lesson.\n\nEach module ends with a small project.",
        category="Data Science",
        price="49.00",
        capacity=30,
        instructor=instructor,
        modules=3,
        lessons_per_module=3,
        rating="4.70",
    )
    make_course(
        title="Python Foundations",
        slug="python-foundations",
        summary="A free primer on Python basics for anyone curious about programming.",
        category="Programming",
        price="0.00",
        instructor=instructor,
        modules=2,
        lessons_per_module=2,
    )
    make_course(
        title="Kubernetes in Production: Operating Clusters Without Tears",
        slug="kubernetes-in-production",
        summary="Deployments, autoscaling, observability and the incidents nobody warns you about.",
        category="DevOps",
        level="advanced",
        price="129.00",
        capacity=12,
        modules=1,
        lessons_per_module=3,
    )
    student = make_user(email="sam@example.com", name="Sam Student")
    enrollment = enroll(student, python, "pm_card_visa")
    first, second, *_ = lesson_ids(python)
    record_progress(enrollment, first, completed=True, position=60)
    record_progress(enrollment, second, position=45)
    for n, name in enumerate(["Ada Lovelace", "Alan Turing", "Katherine Johnson"]):
        enroll_guest(python, f"guest{n}@example.com", name, "pm_card_visa")
    return {"enrollment": enrollment, "lesson": second}


def visit(page, path: str) -> None:
    response = page.goto(path)
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, policy
    wait_live(page)


def test_every_page_renders_cleanly(new_page, console, portal):
    console.allow(
        "/courses/no-such-course: Failed to load resource: the server responded with a status of 404"
    )
    guest = new_page()
    visit(guest, "/")
    expect(guest.locator("#course-grid .course-card")).to_have_count(3)
    check_both_widths(guest, "home")
    guest.locator("#search-input").press_sequentially("pyth", delay=30)
    expect(guest.locator("#search-listbox [role=option]").first).to_be_visible()
    check_both_widths(guest, "home-search")

    visit(guest, "/courses/python-for-data-analysis")
    expect(guest.locator("#curriculum .module")).to_have_count(3)
    check_both_widths(guest, "course")
    visit(guest, "/courses/no-such-course")
    expect(guest.locator("h1")).to_have_text("Course not found")
    visit(guest, "/signin")
    check_both_widths(guest, "signin")
    visit(guest, "/register")
    check_both_widths(guest, "register")
    visit(guest, "/dashboard")
    expect(guest.get_by_role("link", name="Sign in").last).to_be_visible()
    check_both_widths(guest, "dashboard-signed-out")

    student = new_page()
    sign_in(student, "sam@example.com", PASSWORD)
    visit(student, "/dashboard")
    expect(student.locator(".enrollment-card")).to_have_count(1)
    check_both_widths(student, "dashboard")
    visit(student, f"/learn/{portal['enrollment'].pk}/{portal['lesson']}")
    expect(student.locator("#lesson-actions")).to_be_visible()
    check_both_widths(student, "lesson")
    visit(student, "/courses/python-for-data-analysis")
    expect(student.locator("#already")).to_be_visible()
    check_both_widths(student, "course-enrolled")

    instructor = new_page()
    sign_in(instructor, "grace@example.com", PASSWORD)
    visit(instructor, "/instructor")
    expect(instructor.locator("#revenue tbody tr")).to_have_count(2)
    expect(instructor.locator("#chart svg")).to_be_visible()
    check_both_widths(instructor, "instructor")
