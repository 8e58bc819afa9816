"""Browser checks of security fixes: no open redirect after sign-in; the API docs UI served
by the portal itself, under the normal Content-Security-Policy."""

import pytest

from tests.factories import PASSWORD, make_user

# The daphne subprocess serving Chromium reads what the test commits.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def only_this_server(context, server, *, stand_in: str | None = None) -> list[str]:
    """Keep the browser off the network: requests for anything but the test server are
    aborted (or, with `stand_in`, answered with that page, as a phishing site would) and
    listed in the list returned."""
    elsewhere: list[str] = []

    def route(route) -> None:
        url = route.request.url
        if url.startswith(server.url + "/"):
            route.continue_()
            return
        elsewhere.append(url)
        if stand_in is None:
            route.abort()
        else:
            route.fulfill(status=200, content_type="text/html", body=stand_in)

    context.route("**/*", route)
    return elsewhere


def test_sign_in_with_a_tab_in_next_stays_on_the_site(new_page, server, console):
    make_user(email="phished@example.com")
    page = new_page()
    elsewhere = only_this_server(page.context, server, stand_in="<h1>Phished</h1>")

    page.goto("/signin?next=/%09/evil.example/phish")
    page.fill("#email", "phished@example.com")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("#signin-form button[type=submit]")

    assert elsewhere == []
    assert page.url == f"{server.url}/dashboard"
