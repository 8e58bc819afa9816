"""A buyer's open checkout in Chromium, against the test gateway: a card that needs 3-D
Secure opens the bank's check (the gateway's challenge page, framed in a dialog) and the
enrollment turns active live when it is approved; a failed check leaves the checkout
open, its seat held and counting down, for another card; a hold that runs out gives
the seat back, which another visitor's tab sees. axe finds nothing in any state."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import Coupon, Course
from enrollment.checkout import checkout_holds_expire
from enrollment.models import Enrollment, Payment
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import check_both_widths, in_thread, screenshot, sign_in, wait_live
from tests.factories import PASSWORD, make_course, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def buyer_on_course(new_page, capacity: int = 10):
    """Bea Buyer signed in on the course page of a 49.00 course; (page, course)."""
    make_user(email="bea@example.com", name="Bea Buyer")
    course = make_course(title="Rust for Beginners", slug="rust", price="49.00", capacity=capacity)
    page = new_page()
    sign_in(page, "bea@example.com", PASSWORD, next_path="/courses/rust")
    wait_live(page)
    return page, course


def start_secure_checkout(page) -> None:
    page.get_by_role("radio", name="Needs authentication").check()
    page.locator("#enroll-submit").click()


def test_a_card_needing_3d_secure_is_approved_at_the_bank_and_turns_active(new_page):
    page, course = buyer_on_course(new_page)

    start_secure_checkout(page)

    dialog = page.get_by_role("dialog", name="Confirm with your bank")
    expect(dialog).to_be_visible()
    bank = page.frame_locator("#bank-frame")
    expect(bank.get_by_role("heading", name="Confirm your payment")).to_be_visible()
    expect(bank.locator(".bank-facts")).to_contain_text("49.00 USD")
    result = page.locator("#enroll-result")
    expect(result).to_have_attribute("data-status", "pending")
    # 15:00 at most (whole seconds, rounded up), counting down.
    expect(page.locator("#hold-line")).to_have_text(
        re.compile(r"Your seat is held for 1[45]:\d\d\.")
    )
    screenshot(page, "checkout-3ds-challenge")
    assert_accessible(page)

    bank.get_by_role("button", name="Approve").click()

    expect(dialog).to_be_hidden()
    expect(result).to_have_attribute("data-status", "active")
    expect(result).to_contain_text("enrolled. Welcome aboard!")
    expect(page.get_by_role("link", name="Start learning")).to_be_visible()
    enrollment = Enrollment.objects.get(course=course)
    assert enrollment.status == "active"
    assert Payment.objects.get(enrollment=enrollment).status == "succeeded"
    check_both_widths(page, "checkout-3ds-approved")


def test_a_failed_check_keeps_the_seat_for_another_card(new_page):
    page, course = buyer_on_course(new_page)
    start_secure_checkout(page)
    page.frame_locator("#bank-frame").get_by_role("button", name="Fail authentication").click()

    result = page.locator("#enroll-result")
    expect(result).to_contain_text("did not approve the payment")
    expect(result).to_have_attribute("data-status", "pending")
    expect(page.locator("#enroll-submit")).to_have_text("Pay · $49.00")
    assert Course.objects.get(pk=course.pk).seats_taken == 1
    # The same state after a reload: the open checkout is resumed, not a new form.
    page.reload()
    wait_live(page)
    expect(page.locator("#enroll-result")).to_contain_text("did not approve the payment")
    check_both_widths(page, "checkout-3ds-failed")

    page.get_by_role("radio", name="Visa").check()
    page.locator("#enroll-submit").click()

    expect(result).to_have_attribute("data-status", "active")
    enrollment = Enrollment.objects.get(course=course)
    assert (enrollment.status, Payment.objects.get(enrollment=enrollment).attempt) == (
        "active",
        2,
    )


def test_a_hold_that_runs_out_gives_the_seat_back_to_every_tab(new_page):
    make_user(email="bea@example.com", name="Bea Buyer")
    course = make_course(title="Rust for Beginners", slug="rust", price="49.00", capacity=2)
    watcher = new_page()
    watcher.goto("/courses/rust")
    wait_live(watcher)
    expect(watcher.locator("#seats")).to_have_text("2 of 2 seats left")
    buyer = new_page()
    sign_in(buyer, "bea@example.com", PASSWORD, next_path="/courses/rust")
    wait_live(buyer)
    start_secure_checkout(buyer)
    buyer.get_by_role("button", name="Close").click()  # walks away from the bank's check
    expect(watcher.locator("#seats")).to_have_text("1 of 2 seats left")

    # The hold nearly over: the page, opened again, counts its last seconds down to the end
    # (however long the reload takes, the page then says the hold ran out).
    enrollment = Enrollment.objects.get(course=course)
    Enrollment.objects.filter(pk=enrollment.pk).update(
        hold_expires_at=timezone.now() + timedelta(seconds=4)
    )
    buyer.reload()
    wait_live(buyer)
    expect(buyer.locator("#hold-line")).to_contain_text("Your seat hold ran out", timeout=20_000)
    expect(buyer.locator("#authenticate")).to_be_disabled()

    assert in_thread(checkout_holds_expire) == 1  # the beat's sweep

    result = buyer.locator("#enroll-result")
    expect(result).to_have_attribute("data-status", "cancelled")
    expect(result).to_contain_text("The checkout expired before the payment was completed.")
    expect(watcher.locator("#seats")).to_have_text("2 of 2 seats left")
    check_both_widths(buyer, "checkout-hold-expired")
    buyer.get_by_role("button", name="Start again").click()
    expect(buyer.locator("#enroll-submit")).to_be_enabled()
    expect(buyer.locator("#enroll-submit")).to_have_text("Enroll · $49.00")


def test_a_coupon_shows_its_price_before_paying_and_is_on_the_receipt(new_page, console):
    console.allow("status of 400")  # the unknown code the test types first
    page, course = buyer_on_course(new_page)
    Coupon.objects.create(code="LAUNCH20", course=course, percent_off=20, max_redemptions=10)

    page.get_by_label("Coupon code").fill("nope")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#error-coupon")).to_have_text(
        "This coupon code is not valid for this course."
    )
    page.get_by_label("Coupon code").fill("launch20")
    page.get_by_role("button", name="Apply").click()

    expect(page.locator("#coupon-note")).to_have_text(
        "LAUNCH20: 20% off. You pay $39.20 instead of $49.00."
    )
    expect(page.locator("#enroll-submit")).to_have_text("Enroll · $39.20")
    check_both_widths(page, "checkout-coupon")
    page.locator("#enroll-submit").click()

    expect(page.locator("#enroll-result")).to_have_attribute("data-status", "active")
    enrollment = Enrollment.objects.get(course=course)
    assert Payment.objects.get(enrollment=enrollment).amount == Decimal("39.20")
    page.goto(f"/enrollments/{enrollment.pk}/receipt")
    expect(page.locator("#receipt")).to_contain_text("LAUNCH20")
    expect(page.locator("#receipt-amount")).to_have_text("39.20 USD")
    check_both_widths(page, "checkout-coupon-receipt")


def test_a_guest_completes_the_banks_check_or_starts_again_after_failing_it(new_page):
    course = make_course(title="Rust for Beginners", slug="rust", price="49.00", capacity=10)
    page = new_page()
    page.goto("/courses/rust")
    wait_live(page)
    page.get_by_label("Your name").fill("Gil Guest")
    page.get_by_label("Email").fill("gil@example.com")
    start_secure_checkout(page)
    page.frame_locator("#bank-frame").get_by_role("button", name="Fail authentication").click()

    # Nobody could act on a guest's failed checkout: it ends, and the form is back.
    expect(page.locator("#form-error")).to_contain_text("Your bank did not approve the payment.")
    expect(page.locator("#enroll-submit")).to_have_text("Enroll · $49.00")
    assert Enrollment.objects.get(course=course).status == "cancelled"
    assert Course.objects.get(pk=course.pk).seats_taken == 0

    start_secure_checkout(page)
    page.frame_locator("#bank-frame").get_by_role("button", name="Approve").click()

    result = page.locator("#enroll-result")
    expect(result).to_have_attribute("data-status", "active")
    expect(result).to_contain_text("A confirmation is on its way to gil@example.com.")
    assert Enrollment.objects.filter(course=course, status="active").count() == 1
    check_both_widths(page, "checkout-guest-approved")
