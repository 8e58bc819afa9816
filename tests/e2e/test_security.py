"""Browser checks of security fixes: no open redirect after sign-in; the API docs UI served
by the portal itself, under the normal Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import csp_violations
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


def test_the_api_docs_render_offline_under_the_content_security_policy(new_page, server):
    """Swagger UI comes from the portal's own static files (no CDN), with no inline code, so
    the page works with the network cut off and under the same policy as every page."""
    page = new_page()
    elsewhere = only_this_server(page.context, server)
    csp_console: list[str] = []
    page.on(
        "console",
        lambda message: (
            csp_console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    response = page.goto("/api/docs/")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/enrollments").first).to_be_visible()
    assert operations.count() > 10
    # Opening an operation works too (its body renders from the schema).
    page.locator(".opblock-summary-path", has_text="/api/courses").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert csp_violations(page) == []
    assert csp_console == []
    assert elsewhere == []
