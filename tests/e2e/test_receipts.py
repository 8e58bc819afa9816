"""A buyer's receipt in Chromium: paying for a course from its page, then "Receipt" on the
dashboard card opens the receipt page (what was sold, to whom, for how much), which fits
and passes axe at desktop and phone widths and prints."""

import re

import pytest
from playwright.sync_api import expect

from enrollment.models import Receipt
from tests.e2e.conftest import check_both_widths, sign_in, wait_live
from tests.factories import PASSWORD, make_course, make_instructor, make_user

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_buyer_opens_the_receipt_from_the_dashboard(new_page):
    make_course(
        title="Kubernetes in Practice",
        slug="kubernetes-in-practice",
        price="49.00",
        instructor=make_instructor(name="Kelsey Tutor"),
    )
    make_user(email="bea@example.com", name="Bea Buyer")
    page = new_page()
    sign_in(page, "bea@example.com", PASSWORD, next_path="/courses/kubernetes-in-practice")
    wait_live(page)
    page.check("input[value=pm_card_visa]")
    page.click("#enroll-submit")
    expect(page.locator("#enroll-result")).to_have_attribute("data-status", "active")

    page.goto("/dashboard")
    wait_live(page)
    link = page.get_by_role("link", name="Receipt for Kubernetes in Practice")
    expect(link).to_be_visible()
    link.click()

    number = Receipt.objects.get(student_email="bea@example.com").number
    expect(page).to_have_url(re.compile(f"/receipts/{number}$"))
    expect(page.locator("h1")).to_have_text(f"Receipt {number}")
    expect(page.locator("#receipt-amount")).to_have_text(re.compile(r"^49\.00 [A-Z]{3}$"))
    expect(page.locator("#receipt")).to_contain_text("Bea Buyer")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    check_both_widths(page, "receipt")

    # A free enrollment's card has no receipt link.
    make_course(title="Free Primer", slug="free-primer", price="0.00")
    page.goto("/courses/free-primer")
    wait_live(page)
    page.click("#enroll-submit")
    expect(page.locator("#enroll-result")).to_have_attribute("data-status", "active")
    page.goto("/dashboard")
    wait_live(page)
    expect(page.locator("[data-role=receipt]")).to_have_count(1)
