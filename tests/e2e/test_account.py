"""The account page in Chromium: profile, password, where one is signed in (a second
browser signed out from the first), the data export and erasure through its dialog."""

import json

import pytest
from playwright.sync_api import expect

from portal.accounts.models import AuthToken, User
from tests.e2e.conftest import check_both_widths, sign_in, wait_live
from tests.factories import PASSWORD, make_course, make_instructor, make_user, token_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHONE_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
)


def signins_loaded(page, count: int) -> None:
    expect(page.locator("#signins")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#signins > li.signin")).to_have_count(count)


def test_the_account_page_at_both_widths(new_page, browser, server, console):
    console.allow("status of 400")  # the wrong current password, asked for below
    user = make_user(email="ada@example.com", name="Ada Lovelace")
    token = token_for(user)
    AuthToken.objects.filter(user=user).update(user_agent="curl/8.5.0")
    phone = browser.new_context(base_url=server.url, user_agent=PHONE_AGENT)
    try:
        other = phone.new_page()
        sign_in(other, user.email, PASSWORD, next_path="/dashboard")
        page = new_page()
        sign_in(page, user.email, PASSWORD, next_path="/account")
        wait_live(page)

        expect(page.locator("h1")).to_have_text("Your account")
        expect(page.locator("nav.main-nav a[aria-current=page]")).to_have_text("Account")
        expect(page.locator("#email-badge")).to_have_text("Verified")
        signins_loaded(page, 3)
        current = page.locator('#signins li[data-current="true"]')
        expect(current).to_contain_text("This device")
        expect(current).to_contain_text("Chrome on Linux")
        expect(current.get_by_role("button")).to_have_count(0)
        expect(page.locator('#signins li[data-kind="token"]')).to_contain_text("curl")
        expect(page.locator('#signins li[data-kind="token"]')).to_contain_text("API token")
        expect(page.locator("#signins")).to_contain_text("Safari on iOS")

        # A new email waits for its link; the page says so.
        page.fill("#profile-email", "ada.new@example.com")
        page.click("#profile-form button[type=submit]")
        expect(page.locator("#email-badge")).to_have_text("Change waiting")
        expect(page.locator("#email-detail")).to_contain_text(
            "Waiting for you to confirm ada.new@example.com"
        )
        user.refresh_from_db()
        assert (user.email, user.pending_email) == ("ada@example.com", "ada.new@example.com")

        # A wrong current password: the error is at the field, announced, focused.
        page.fill("#current-password", "not-my-password")
        page.fill("#new-password", "a-new-and-unusual-passphrase")
        page.click("#password-form button[type=submit]")
        expect(page.locator("#error-current_password")).to_have_text(
            "That is not your current password."
        )
        expect(page.locator("#current-password")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#current-password")).to_be_focused()

        expect(page.locator("#toasts")).to_contain_text("We sent a link to ada.new@example.com")
        for close in page.locator(".toast-close").all():
            close.click()  # screenshots of the page, not of a passing toast
        expect(page.locator(".toast")).to_have_count(0)

        check_both_widths(page, "account")

        page.click("#delete-open")
        expect(page.locator("#delete-dialog")).to_be_visible()
        expect(page.locator("#delete-password")).to_be_focused()
        check_both_widths(page, "account-delete-dialog")
        page.keyboard.press("Escape")
        expect(page.locator("#delete-dialog")).to_be_hidden()

        # The export downloads as a file named after the account.
        with page.expect_download() as download:
            page.click("#export-link")
        assert download.value.suggested_filename == f"learning-portal-export-{user.pk}.json"
        exported = json.loads(open(download.value.path(), encoding="utf-8").read())  # noqa: SIM115
        assert exported["account"]["email"] == "ada@example.com"
        assert len(exported["sessions"]) == 2
        assert token not in json.dumps(exported)
    finally:
        phone.close()


def test_visitors_are_asked_to_sign_in(new_page):
    page = new_page()
    page.goto("/account")
    expect(page.locator(".prompt h1")).to_have_text("Your account")
    expect(page.get_by_role("link", name="Sign in").last).to_have_attribute(
        "href", "/signin?next=/account"
    )
    check_both_widths(page, "account-signed-out")


def test_sign_out_everywhere_else_signs_the_other_browser_out(new_page, browser, server):
    user = make_user(email="grace@example.com", name="Grace Hopper")
    here = new_page()
    sign_in(here, user.email, PASSWORD, next_path="/account")
    wait_live(here)
    other_context = browser.new_context(base_url=server.url)
    try:
        there = other_context.new_page()
        sign_in(there, user.email, PASSWORD, next_path="/dashboard")
        wait_live(there)
        here.reload()
        signins_loaded(here, 2)

        here.click("#signout-others")

        expect(here.locator("#toasts")).to_contain_text("Signed out everywhere else (1)")
        signins_loaded(here, 1)
        expect(here.locator("#signout-others")).to_be_disabled()
        # The other browser's socket was closed (4401): it reloads, signed out; and its
        # next navigation lands signed out too.
        expect(there.get_by_role("link", name="Sign in").first).to_be_visible(timeout=15_000)
        there.goto("/account")
        expect(there.locator(".prompt h1")).to_have_text("Your account")
        # This browser is still signed in.
        here.goto("/account")
        expect(here.locator("h1")).to_have_text("Your account")
        expect(here.locator(".account-name")).to_have_text("Grace Hopper")
    finally:
        other_context.close()


def test_a_new_password_keeps_this_browser_and_signs_the_other_out(new_page, browser, server):
    user = make_user(email="alan@example.com", name="Alan Turing")
    other_context = browser.new_context(base_url=server.url)
    try:
        there = other_context.new_page()
        sign_in(there, user.email, PASSWORD, next_path="/dashboard")
        wait_live(there)
        here = new_page()
        sign_in(here, user.email, PASSWORD, next_path="/account")
        wait_live(here)
        signins_loaded(here, 2)

        here.fill("#current-password", PASSWORD)
        here.fill("#new-password", "an-entirely-new-passphrase")
        here.click("#password-form button[type=submit]")

        expect(here.locator("#toasts")).to_contain_text("Password changed. 1 other session was")
        signins_loaded(here, 1)
        expect(here.locator("#current-password")).to_have_value("")
        wait_live(here)  # this tab's socket is back, under the session's new key
        assert here.evaluate("window.portal.socket.user.id") == user.pk
        expect(there.get_by_role("link", name="Sign in").first).to_be_visible(timeout=15_000)
        here.goto("/account")
        expect(here.locator(".account-name")).to_have_text("Alan Turing")
        user.refresh_from_db()
        assert user.check_password("an-entirely-new-passphrase")
    finally:
        other_context.close()


def test_deleting_the_account_through_the_dialog(new_page, console):
    console.allow("status of 400")  # the wrong password, tried first
    user = make_user(email="leaving@example.com", name="Leo Leaving")
    page = new_page()
    sign_in(page, user.email, PASSWORD, next_path="/account")
    wait_live(page)

    page.click("#delete-open")
    dialog = page.locator("#delete-dialog")
    expect(dialog).to_be_visible()
    page.fill("#delete-password", "not-it")
    page.click("#delete-confirm")
    expect(page.locator("#error-password")).to_have_text("That is not your password.")
    expect(page.locator("#delete-password")).to_have_attribute("aria-invalid", "true")
    expect(dialog).to_be_visible()
    assert User.objects.filter(pk=user.pk).exists()

    page.fill("#delete-password", PASSWORD)
    with page.expect_navigation(url=f"{server_url(page)}/"):
        page.click("#delete-confirm")
    wait_live(page)
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
    assert page.evaluate("window.portal.socket.user") is None
    assert not User.objects.filter(pk=user.pk).exists()
    page.goto("/account")
    expect(page.locator(".prompt h1")).to_have_text("Your account")


def test_a_teacher_is_told_to_hand_the_courses_over(new_page, console):
    console.allow("status of 409")
    teacher = make_instructor(email="ivy@example.com", name="Ivy Teacher")
    make_course(title="Compilers", instructor=teacher)
    page = new_page()
    sign_in(page, teacher.email, PASSWORD, next_path="/account")
    wait_live(page)

    page.click("#delete-open")
    page.fill("#delete-password", PASSWORD)
    page.click("#delete-confirm")

    expect(page.locator("#delete-error")).to_contain_text("You still teach 1 course (“Compilers”)")
    expect(page.locator("#delete-error")).to_contain_text("Hand each course over")
    assert User.objects.filter(pk=teacher.pk).exists()
    wait_live(page)  # its socket came back


def server_url(page) -> str:
    return page.url.split("/account")[0]
