"""Register, sign in and sign out through the pages (session + CSRF)."""

import time

import pytest
from playwright.sync_api import expect

from portal.accounts.models import User
from tests.e2e.conftest import sign_in, wait_live
from tests.factories import PASSWORD, make_user

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_register_signs_in_and_sign_out_ends_the_session(new_page):
    page = new_page()
    page.goto("/register?next=/dashboard")
    page.fill("#name", "Nora New")
    page.fill("#email", "nora@example.com")
    page.fill("#password", "a-long-and-unusual-passphrase")
    with page.expect_navigation(url="**/dashboard"):
        page.click("#register-form button[type=submit]")
    wait_live(page)
    expect(page.locator(".account-name")).to_have_text("Nora New")
    expect(page.locator("#enrollments .empty-state")).to_contain_text("enrolled in a course yet")
    assert page.evaluate("window.portal.socket.user.email") == "nora@example.com"
    assert User.objects.filter(email="nora@example.com").exists()

    with page.expect_navigation():
        page.click("#sign-out")
    wait_live(page)
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert page.evaluate("window.portal.socket.user") is None


def test_signing_out_leaves_for_home_without_reconnecting_first(new_page, server):
    """Logout closes the session's sockets, the signing-out tab's own included. Were that
    tab to reconnect while its way home is slow (as under load), the anonymous hello would
    reload the page it is leaving over that navigation, or the navigation would cut the
    new handshake."""
    make_user(email="leaving@example.com")
    page = new_page()
    sign_in(page, "leaving@example.com", PASSWORD, next_path="/dashboard")
    wait_live(page)
    opened_on: list[str] = []
    page.on("websocket", lambda socket: opened_on.append(page.url))

    def slow_home(route) -> None:
        time.sleep(1.5)  # longer than the first reconnect delay (at most 500 ms)
        route.continue_()

    page.route(f"{server.url}/", slow_home)
    with page.expect_navigation():
        page.click("#sign-out")
    wait_live(page)

    assert page.url == f"{server.url}/"
    assert opened_on == [f"{server.url}/"]  # only the home page's own socket
    assert page.evaluate("window.portal.socket.user") is None


def test_register_shows_the_apis_field_errors(new_page, console):
    console.allow("status of 400")
    make_user(email="taken@example.com")
    page = new_page()
    page.goto("/register")
    page.fill("#name", "Someone")
    page.fill("#email", "taken@example.com")
    page.fill("#password", "a-long-and-unusual-passphrase")
    page.click("#register-form button[type=submit]")
    expect(page.locator("#error-email")).to_contain_text("already exists")
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email")).to_be_focused()

    page.fill("#email", "fresh@example.com")
    page.fill("#password", "12345678")  # too common and all digits
    page.click("#register-form button[type=submit]")
    expect(page.locator("#error-password")).to_be_visible()
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-email")).to_be_hidden()
    assert not User.objects.filter(email="fresh@example.com").exists()


def test_a_wrong_password_is_refused_and_the_right_one_returns_to_next(new_page, console):
    console.allow("status of 401")
    make_user(email="sam@example.com", name="Sam Student")
    page = new_page()
    page.goto("/signin?next=/dashboard")
    page.fill("#email", "sam@example.com")
    page.fill("#password", "wrong-password")
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#form-error")).to_have_text("Invalid email or password.")
    page.fill("#password", PASSWORD)
    with page.expect_navigation(url="**/dashboard"):
        page.click("#signin-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("My learning")


def test_an_unsafe_next_is_ignored(new_page):
    make_user(email="sam@example.com")
    page = new_page()
    page.goto("/signin?next=//evil.example/")
    page.fill("#email", "sam@example.com")
    page.fill("#password", PASSWORD)
    with page.expect_navigation(url="**/dashboard"):
        page.click("#signin-form button[type=submit]")
