"""Enrolling from a course page: the test gateway's cards, inline errors, declines, live
seats, and the status followed live from pending to active."""

import re

import pytest
from playwright.sync_api import expect

from enrollment import transitions
from enrollment.models import Enrollment
from tests.e2e.conftest import in_thread, sign_in, wait_live
from tests.factories import PASSWORD, make_course, make_user

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paid_course():
    return make_course(
        title="Kubernetes in Practice",
        slug="kubernetes-in-practice",
        price="49.00",
        capacity=25,
        modules=2,
        lessons_per_module=2,
    )


def fill_guest(page, name: str, email: str) -> None:
    page.fill("#student-name", name)
    page.fill("#student-email", email)


def test_a_guest_enrolls_with_the_test_gateway_and_sees_it_active(new_page, paid_course):
    page = new_page()
    page.goto("/courses/kubernetes-in-practice")
    wait_live(page)
    expect(page.locator("h1")).to_have_text("Kubernetes in Practice")
    expect(page.locator("#seats")).to_have_text("25 of 25 seats left")
    fill_guest(page, "Ada Lovelace", "ada@example.com")
    page.check("input[value=pm_card_visa]")
    page.dblclick("#enroll-submit")  # a double submit makes one enrollment

    result = page.locator("#enroll-result")
    expect(result).to_be_visible()
    expect(result).to_have_attribute("data-status", "active")
    expect(result.locator(".badge")).to_have_text("Active")
    expect(result).to_contain_text(re.compile(r"ENR-\d{4}-\d+"))
    expect(page.locator("#enroll-form")).to_be_hidden()
    # The seat count moved live (course.seats over the socket).
    expect(page.locator("#seats")).to_have_text("24 of 25 seats left")
    enrollment = Enrollment.objects.get(student__email="ada@example.com")
    assert enrollment.status == "active"
    paid_course.refresh_from_db()
    assert paid_course.seats_taken == 1


def test_enrolling_twice_says_already_enrolled(new_page, console):
    console.allow("status of 409")
    make_course(title="Git Essentials", slug="git-essentials", price="0.00")
    page = new_page()
    for attempt in range(2):
        page.goto("/courses/git-essentials")
        wait_live(page)
        expect(page.locator("#payment")).to_be_hidden()  # free: no payment asked
        expect(page.locator("#enroll-submit")).to_have_text("Enroll for free")
        fill_guest(page, "Lin Twice", "lin@example.com")
        page.click("#enroll-submit")
        if attempt == 0:
            expect(page.locator("#enroll-result")).to_have_attribute("data-status", "active")
    expect(page.locator("#form-error")).to_contain_text("already enrolled")
    assert Enrollment.objects.filter(student__email="lin@example.com").count() == 1


def test_a_declined_card_shows_the_error_and_the_form_stays_usable(new_page, console, paid_course):
    console.allow("status of 402")
    page = new_page()
    page.goto("/courses/kubernetes-in-practice")
    wait_live(page)
    fill_guest(page, "Bob Declined", "bob@example.com")
    page.check("input[value=pm_card_chargeDeclined]")
    page.click("#enroll-submit")

    error = page.locator("#form-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Payment declined")
    expect(error).to_contain_text("Your card was declined.")
    expect(page.locator("#payment")).to_have_attribute("aria-invalid", "true")
    submit = page.locator("#enroll-submit")
    expect(submit).to_be_enabled()
    expect(page.locator("#enroll-result")).to_be_hidden()
    assert not Enrollment.objects.filter(status="active").exists()

    # Another card works on the next attempt (a new Idempotency-Key).
    page.check("input[value=pm_card_mastercard]")
    submit.click()
    expect(page.locator("#enroll-result")).to_have_attribute("data-status", "active")


def test_api_field_errors_show_inline(new_page, console, paid_course):
    console.allow("status of 400")
    page = new_page()
    page.goto("/courses/kubernetes-in-practice")
    wait_live(page)
    fill_guest(page, "", "not-an-email")
    page.click("#enroll-submit")
    expect(page.locator("#error-student-email")).to_be_visible()
    expect(page.locator("#student-email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-student-name")).to_be_visible()
    expect(page.locator("#student-name")).to_be_focused()
    assert not Enrollment.objects.exists()


def test_a_signed_in_students_pending_enrollment_turns_active_live(new_page, paid_course):
    make_user(email="sam@example.com", name="Sam Student")
    page = new_page()
    sign_in(page, "sam@example.com", PASSWORD, next_path="/courses/kubernetes-in-practice")
    wait_live(page)
    expect(page.locator("#student-email")).to_have_count(0)  # enrolls as themself
    page.check("input[value=pm_card_authenticationRequired]")
    page.click("#enroll-submit")
    result = page.locator("#enroll-result")
    expect(result).to_have_attribute("data-status", "pending")
    expect(result.locator(".badge")).to_have_text("Pending")

    # The payment settles later (a webhook): the page follows it over the socket.
    enrollment = Enrollment.objects.get(student__email="sam@example.com")
    in_thread(lambda: transitions.activate(enrollment_id=enrollment.pk))
    expect(result).to_have_attribute("data-status", "active")
    expect(result.get_by_role("link", name="Start learning")).to_be_visible()


def test_seats_update_live_and_a_full_course_cannot_be_submitted(new_page, console):
    console.allow("status of 409")
    course = make_course(title="Tiny Seminar", slug="tiny-seminar", price="0.00", capacity=2)
    page = new_page()
    page.goto("/courses/tiny-seminar")
    wait_live(page)
    expect(page.locator("#seats")).to_have_text("2 of 2 seats left")
    other = new_page()  # someone else takes both seats
    for n in range(2):
        other.goto("/courses/tiny-seminar")
        other.fill("#student-name", f"Other {n}")
        other.fill("#student-email", f"other{n}@example.com")
        other.click("#enroll-submit")
        expect(other.locator("#enroll-result")).to_have_attribute("data-status", "active")
    expect(page.locator("#seats")).to_have_text("Full · no seats left")
    expect(page.locator("#enroll-submit")).to_be_disabled()
    expect(page.locator("#enroll-submit")).to_have_text("Course full")
    course.refresh_from_db()
    assert course.seats_taken == 2


def test_a_declined_attempt_then_a_paid_one_leave_one_course_on_the_dashboard(
    new_page, console, paid_course
):
    console.allow("status of 402")
    make_user(email="sam@example.com", name="Sam Student")
    page = new_page()
    sign_in(page, "sam@example.com", PASSWORD, next_path="/courses/kubernetes-in-practice")
    wait_live(page)
    page.check("input[value=pm_card_chargeDeclined]")
    page.click("#enroll-submit")
    expect(page.locator("#form-error")).to_be_visible()
    page.check("input[value=pm_card_visa]")
    page.click("#enroll-submit")
    expect(page.locator("#enroll-result")).to_have_attribute("data-status", "active")
    assert sorted(
        Enrollment.objects.filter(student__email="sam@example.com").values_list("status", flat=True)
    ) == ["active", "cancelled"]

    page.goto("/dashboard")
    wait_live(page)
    cards = page.locator("#enrollments [data-enrollment]")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-status", "active")
    expect(page.locator("#count-learning")).to_have_text("1")
