"""A form submitted before the page's module has run (a slow connection, a quick user):
the submission is held and made once the module is there, and the fields never reach
the address bar (js/formguard.js). Without the guard the click reloaded the page as
GET /signin?email=…&password=…: the password in the history and the server's logs, and
the click lost."""

import re

import pytest
from playwright.sync_api import Route

from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIGNIN_MODULE = re.compile(r"/static/js/pages/signin(\.[0-9a-f]+)?\.js$")


def test_a_sign_in_sent_before_the_module_ran_is_held_then_made(new_page):
    make_user(email="early@example.com")
    page = new_page()
    held: list[Route] = []
    page.route(SIGNIN_MODULE, lambda route: held.append(route))  # the module stays in flight
    page.goto("/signin", wait_until="commit")
    page.get_by_label("Email").fill("early@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    while not held:  # the parser has asked for the module by now; let the route arrive
        page.wait_for_timeout(20)
    page.get_by_role("button", name="Sign in").click(no_wait_after=True)

    # Nothing left the page: still parsing-done-but-not-ready, no query in the address.
    assert page.evaluate("document.readyState") == "interactive"
    assert page.url.endswith("/signin"), page.url
    assert PASSWORD not in page.url

    held[0].continue_()
    page.wait_for_url("**/dashboard")
    assert PASSWORD not in page.url
