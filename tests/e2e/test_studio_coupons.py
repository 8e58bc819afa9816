"""Coupons in the course builder, in Chromium against the real API: the instructor creates
them (a percentage with a limit and an expiry, an amount), mistakes are explained at their
fields, the table lists them newest first with their uses; the section is accessible and
fits a phone."""

import re

import pytest
from playwright.sync_api import expect

from catalog.models import Coupon
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import check_both_widths, sign_in
from tests.factories import PASSWORD, make_course, make_instructor

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def coupon_row(page, code: str):
    return page.locator(f'#coupons tbody tr[data-code="{code}"]')


def listed_codes(page) -> list[str]:
    return page.locator("#coupons tbody th").all_inner_texts()


def test_an_instructor_creates_coupons_and_sees_them_in_the_table(new_page, console):
    ivy = make_instructor(email="ivy@example.com", name="Ivy Instructor")
    course = make_course(
        title="Paid Python",
        slug="paid-python",
        price="49.00",
        instructor=ivy,
        modules=1,
        lessons_per_module=1,
    )
    Coupon.objects.create(
        code="EARLYBIRD", course=course, percent_off=10, max_redemptions=50, redeemed=12
    )
    page = new_page()
    sign_in(page, "ivy@example.com", PASSWORD, next_path=f"/studio/courses/{course.slug}")

    # The course's coupons as stored, with their uses.
    expect(page.get_by_role("heading", name="Coupons", exact=True)).to_be_visible()
    expect(coupon_row(page, "EARLYBIRD")).to_contain_text("10% off")
    expect(coupon_row(page, "EARLYBIRD")).to_contain_text("12 of 50")
    expect(page.locator("#coupons-count")).to_have_text("1 coupon")
    expect(page.locator("#coupon-currency")).to_have_text("USD")

    # Nothing filled in: the fields say what is missing, before anything is sent.
    page.click("#coupon-submit")
    expect(page.locator("#error-code")).to_have_text("Give the code buyers will type.")
    expect(page.locator("#error-percent_off")).to_have_text("Give a percentage or an amount off.")
    expect(page.locator("#coupon-code")).to_be_focused()
    expect(page.locator("#coupon-code")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, include="#coupon-form")

    # A percentage, a limit of uses and an expiry (the browser's local time).
    page.fill("#coupon-code", "launch20")
    page.fill("#coupon-percent", "20")
    page.fill("#coupon-max", "100")
    page.fill("#coupon-expires", "2031-01-15T09:30")
    page.click("#coupon-submit")
    expect(page.locator("#coupon-status")).to_have_text("Coupon LAUNCH20 created: 20% off.")
    expect(page.locator("#error-code")).to_be_hidden()
    expect(coupon_row(page, "LAUNCH20")).to_contain_text("0 of 100")
    expect(coupon_row(page, "LAUNCH20")).to_contain_text("2031")
    expect(page.locator("#coupon-code")).to_have_value("")  # the form is ready for the next
    expect(page.locator("#coupon-code")).to_be_focused()
    stored = Coupon.objects.get(code="LAUNCH20")
    assert (stored.course_id, stored.percent_off, stored.amount_off) == (course.pk, 20, None)
    assert (stored.max_redemptions, stored.created_by) == (100, ivy)
    sent = page.evaluate("new Date('2031-01-15T09:30').toISOString()")
    assert stored.expires_at.isoformat().replace("+00:00", ".000Z") == sent

    # The server's refusals are explained at their fields too: a taken code (409), a
    # percentage over 100 (400).
    console.allow("status of 409", "status of 400")
    page.fill("#coupon-code", "Launch20")
    page.fill("#coupon-amount", "15")
    page.click("#coupon-submit")
    expect(page.locator("#error-code")).to_contain_text("LAUNCH20 already exists")
    expect(page.locator("#coupon-code")).to_be_focused()
    page.fill("#coupon-code", "TOOMUCH")
    page.fill("#coupon-amount", "")
    page.fill("#coupon-percent", "150")
    page.click("#coupon-submit")
    expect(page.locator("#error-percent_off")).to_contain_text("100")
    expect(page.locator("#error-code")).to_be_hidden()
    expect(page.locator("#coupon-percent")).to_be_focused()
    assert not Coupon.objects.filter(code="TOOMUCH").exists()

    # An amount off, unlimited and without expiry.
    page.fill("#coupon-code", "save15")
    page.fill("#coupon-percent", "")
    page.fill("#coupon-amount", "15")
    page.click("#coupon-submit")
    expect(page.locator("#coupon-status")).to_have_text("Coupon SAVE15 created: $15.00 off.")
    expect(coupon_row(page, "SAVE15")).to_contain_text("0 of unlimited")
    expect(coupon_row(page, "SAVE15")).to_contain_text("Never")
    expect(page.locator("#coupons-count")).to_have_text("3 coupons")
    assert listed_codes(page) == ["SAVE15", "LAUNCH20", "EARLYBIRD"]

    # After a reload the table is the stored one, newest first.
    page.reload()
    expect(page.locator("#coupons tbody tr")).to_have_count(3)
    assert listed_codes(page) == ["SAVE15", "LAUNCH20", "EARLYBIRD"]
    expect(page.locator("#coupons table caption")).to_have_text(
        re.compile("Coupons of this course")
    )
    # Desktop and phone: no sideways scrolling, screenshots, axe without a violation.
    check_both_widths(page, "studio-coupons")
