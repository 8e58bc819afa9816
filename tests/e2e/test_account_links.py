"""The emailed links in Chromium, followed from the mail the server sent: a new user
registers, confirms the address, forgets the password and sets a new one (which signs
out their other browser); a guest buyer claims the course with a new account. axe finds
nothing on any of these pages."""

import re

import pytest
from playwright.sync_api import expect

from enrollment.models import Enrollment
from portal.accounts.models import User
from tests.e2e.conftest import check_both_widths, mail_text, read_mail, sign_in, wait_live
from tests.factories import make_course

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-Passphrase-9"


def link(server, to: str, path: str) -> str:
    """The newest link to `path` mailed to `to`, made relative to the test server."""
    for message in reversed(read_mail(server, to)):
        found = re.search(rf"https?://[^\s]+({re.escape(path)}\?token=\S+)", mail_text(message))
        if found:
            return found.group(1)
    raise AssertionError(f"no {path} link mailed to {to}")


def test_register_confirm_forget_and_reset_the_password(new_page, server, console):
    console.allow("status of 400")  # the all-spaces password the test tries first
    page = new_page()
    page.goto("/register")
    page.get_by_label("Name").fill("Nora New")
    page.get_by_label("Email").fill("nora@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/dashboard")
    banner = page.locator("#verify-banner")
    expect(banner).to_contain_text("We sent a link to nora@example.com")
    check_both_widths(page, "account-unverified-banner")

    page.goto(link(server, "nora@example.com", "/verify-email"))
    expect(page).to_have_url(re.compile(r"/verify-email$"))  # the token left the address bar
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.locator("#verify-done")).to_contain_text("nora@example.com is confirmed")
    check_both_widths(page, "account-email-confirmed")
    assert User.objects.get(email="nora@example.com").email_verified
    page.goto("/dashboard")
    wait_live(page)
    expect(page.locator("#verify-banner")).to_have_count(0)

    # Another browser of hers, signed in: the new password signs it out.
    other = new_page()
    sign_in(other, "nora@example.com", PASSWORD, next_path="/dashboard")
    wait_live(other)

    page = new_page()  # signed out, where she forgot it
    page.goto("/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("nora@example.com")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator("#forgot-done")).to_contain_text("If an account uses that email")
    check_both_widths(page, "account-forgot-password")

    page.goto(link(server, "nora@example.com", "/reset-password"))
    page.get_by_label("New password").fill("        ")
    page.get_by_role("button", name="Set my new password").click()
    expect(page.locator("#error-password")).to_contain_text("cannot be only spaces")
    page.get_by_label("New password").fill("another-Long-passphrase-7")
    page.get_by_role("button", name="Set my new password").click()
    expect(page.locator("#reset-done")).to_contain_text("every other session is signed out")
    check_both_widths(page, "account-password-reset")

    # Its session ended with the reset: its socket is closed, reconnects signed out and
    # the page reloads itself (a goto now would race that reload), then stays signed out.
    expect(other.locator("#sign-out")).to_have_count(0, timeout=20_000)
    other.wait_for_load_state("load")
    other.goto("/dashboard")
    expect(other.locator("#sign-out")).to_have_count(0)
    page.goto("/signin")
    page.get_by_label("Email").fill("nora@example.com")
    page.get_by_label("Password").fill("another-Long-passphrase-7")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard")


def test_a_guest_claims_the_course_from_the_welcome_email(new_page, server):
    course = make_course(title="Rust for Beginners", slug="rust", price="49.00", capacity=10)
    page = new_page()
    page.goto("/courses/rust")
    wait_live(page)
    page.get_by_label("Your name").fill("Gil Guest")
    page.get_by_label("Email").fill("gil@example.com")
    page.locator("#enroll-submit").click()
    expect(page.locator("#enroll-result")).to_have_attribute("data-status", "active")

    page.goto(link(server, "gil@example.com", "/claim"))
    expect(page.locator("#claim-email")).to_have_text("gil@example.com")
    check_both_widths(page, "account-claim")
    page.get_by_label("Name").fill("Gil Guest")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    page.wait_for_url("**/dashboard")
    expect(page.locator("[data-enrollment]")).to_contain_text("Rust for Beginners")
    enrollment = Enrollment.objects.get(course=course)
    assert enrollment.student.user.email == "gil@example.com"
    assert enrollment.student.user.email_verified
