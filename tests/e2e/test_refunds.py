"""Leaving a course from the dashboard, in Chromium: inside the course's refund rule
the card offers "Cancel and refund" with its terms, a dialog confirms it, and the card
turns Refunded; outside the rule the card says why there is no refund before anyone
clicks; a pending checkout is given up (nothing charged, the seat released). The course
page states the rule before paying. axe finds nothing, with the dialog open too."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from enrollment.models import Enrollment
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import check_both_widths, screenshot, sign_in, wait_live
from tests.e2e.data import enroll
from tests.factories import PASSWORD, make_course, make_user

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_student_cancels_within_the_rule_and_sees_why_not_outside_it(new_page):
    student = make_user(email="bea@example.com", name="Bea Buyer")
    rule = {"price": "49.00", "refund_days": 14, "refund_max_percent": 25}
    recent = make_course(title="Rust for Beginners", slug="rust", capacity=10, **rule)
    old = make_course(title="Go in Practice", slug="go", **rule)
    refundable = enroll(student, recent, "pm_card_visa")
    expired = enroll(student, old, "pm_card_visa")
    Enrollment.objects.filter(pk=expired.pk).update(
        activated_at=timezone.now() - timedelta(days=40)
    )

    page = new_page()
    sign_in(page, "bea@example.com", PASSWORD)
    wait_live(page)
    rust = page.locator(f'[data-enrollment="{refundable.pk}"]')
    go = page.locator(f'[data-enrollment="{expired.pk}"]')
    expect(rust.locator('[data-role="refund-note"]')).to_contain_text("for a full refund")
    expect(go.locator('[data-role="refund-note"]')).to_contain_text(
        "No refund: The refund window (14 days) ended on"
    )
    expect(go.locator('[data-role="leave"]')).to_have_count(0)
    check_both_widths(page, "dashboard-refund")

    rust.get_by_role("button", name="Cancel and refund Rust for Beginners").click()
    dialog = page.get_by_role("dialog", name="Cancel Rust for Beginners and get a refund?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("49.00 USD goes back to your card")
    screenshot(page, "dashboard-refund-dialog")
    assert_accessible(page)
    # Changing one's mind leaves everything as it was.
    dialog.get_by_role("button", name="Keep the course").click()
    expect(dialog).to_be_hidden()
    assert Enrollment.objects.get(pk=refundable.pk).status == "active"

    rust.get_by_role("button", name="Cancel and refund Rust for Beginners").click()
    dialog.get_by_role("button", name="Cancel and refund").click()
    expect(rust.locator(".badge")).to_have_text("Refunded")
    expect(page.locator(".toast", has_text="Rust for Beginners: refunded.")).to_be_visible()
    assert Enrollment.objects.get(pk=refundable.pk).status == "refunded"
    recent.refresh_from_db()
    assert recent.seats_taken == 0


def test_the_course_page_states_the_refund_rule_before_paying(new_page):
    make_course(title="Rust for Beginners", slug="rust", price="49.00", refund_days=14)
    make_course(title="Go", slug="go", price="20.00", refund_days=0)
    make_course(title="Free", slug="free", price="0.00")
    page = new_page()
    page.goto("/courses/rust")
    wait_live(page)
    expect(page.locator("#refund-terms")).to_have_text(
        "Full refund if you cancel within 14 days, having completed at most 30% of the lessons."
    )
    page.goto("/courses/go")
    wait_live(page)
    expect(page.locator("#refund-terms")).to_have_text("No refunds once paid.")
    page.goto("/courses/free")
    wait_live(page)
    expect(page.locator("#price-big, #course-price")).to_have_text("Free")
    expect(page.locator("#refund-terms")).to_be_hidden()


def test_a_pending_checkout_is_given_up_from_the_dashboard(new_page):
    student = make_user(email="pat@example.com", name="Pat Pending")
    course = make_course(title="Rust for Beginners", slug="rust", price="49.00", capacity=3)
    pending = enroll(student, course, "pm_card_authenticationRequired")
    assert pending.status == "pending"

    page = new_page()
    sign_in(page, "pat@example.com", PASSWORD)
    wait_live(page)
    card = page.locator(f'[data-enrollment="{pending.pk}"]')
    card.get_by_role("button", name="Cancel checkout Rust for Beginners").click()
    dialog = page.get_by_role("dialog", name="Cancel your checkout for Rust for Beginners?")
    expect(dialog).to_contain_text("Nothing is charged")
    dialog.get_by_role("button", name="Cancel checkout").click()
    # A checkout given up was never a course of the student's: the card goes.
    expect(card).to_have_count(0)
    expect(
        page.locator(".toast", has_text="Checkout for Rust for Beginners cancelled.")
    ).to_be_visible()
    assert Enrollment.objects.get(pk=pending.pk).status == "cancelled"
    course.refresh_from_db()
    assert course.seats_taken == 0
