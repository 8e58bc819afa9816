"""Browser tests: Debian's Chromium driven by Playwright against a real daphne server
(a subprocess on the pytest-django test database and the test Redis, so the channel layer
is shared with this process). Screenshots go to test-artifacts/screenshots/."""

import email
import os
import threading
from collections.abc import Callable, Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, authenticate

from tests.e2e.axe import assert_accessible
from tests.live import ROOT, LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}

# CSP violations are collected in the page as well as read from the console.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


MAIL = ROOT / "test-artifacts" / "mail"


@pytest.fixture(scope="package")
def server(django_db_setup) -> Iterator[LiveServer]:
    # The server's mail goes to files (one folder per xdist worker), where tests read the
    # links people get by email (read_mail below).
    folder = MAIL / os.environ.get("PYTEST_XDIST_WORKER", "main")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    live = LiveServer(
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(folder),
    ).start()
    live.mail_folder = folder
    yield live
    live.stop()


def read_mail(server, to: str) -> list[email.message.Message]:
    """The messages the server has sent to `to`, oldest first (the file backend writes one
    file per connection, messages separated by a line of dashes)."""
    found = []
    for path in sorted(server.mail_folder.iterdir(), key=lambda p: p.stat().st_mtime):
        for chunk in path.read_text(encoding="utf-8").split("-" * 79 + "\n"):
            if chunk.strip():
                message = email.message_from_string(chunk)
                if to in (message.get("To") or ""):
                    found.append(message)
    return found


def mail_text(message: email.message.Message) -> str:
    """The plain-text body of a message (its first text/plain part)."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode(part.get_content_charset() or "utf-8")
    return ""


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run scripts/browser (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps its event loop registered as running on this thread;
    # Django would then refuse ORM calls made by the tests and pytest-django's flushes.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Console:
    """Console errors, uncaught exceptions and CSP violations of the pages it watches."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[str] = []

    def watch(self, page) -> None:
        def on_console(message) -> None:
            if message.type == "error":
                self.errors.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))

    def allow(self, *fragments: str) -> None:
        """Expected errors (a 402 the test asked for, a socket failing while the server
        is down)."""
        self.allowed.extend(fragments)

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(f in e for f in self.allowed)]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def new_page(browser, server, console) -> Iterator[Callable[..., Any]]:
    """new_page(viewport=DESKTOP, context=None) → a page in a fresh (or the given) context."""
    contexts = []

    def make(viewport: dict | None = None, context=None):
        if context is None:
            context = browser.new_context(viewport=viewport or DESKTOP, base_url=server.url)
            context.add_init_script(WATCH_CSP)
            contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        console.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()
    assert console.unexpected() == [], console.unexpected()


def csp_violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


def check_both_widths(page, name: str) -> None:
    """The page as it is at desktop width, then resized to a phone's (a window narrowed, a
    tablet turned) and back: at each width it fits (no sideways scrolling), is screenshot
    and passes axe; and no Content-Security-Policy violation happened."""
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")
    start = page.viewport_size
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        width = viewport["width"]
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name}: {scroll_width}px wide at {width}px"
        screenshot(page, name)
        assert_accessible(page)
    page.set_viewport_size(start)
    assert csp_violations(page) == [], name


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    path = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, email: str, password: str, *, next_path: str = "") -> None:
    """Signed in as the sign-in form signs in, without its page: the password is checked,
    a session is made here and its cookie handed to the browser, then the page the form
    leads to opens (`next_path`, else an instructor's dashboard or the student's). One page
    load instead of three per test; tests/e2e/test_auth.py and test_security.py drive the
    form itself."""
    user = authenticate(email=email, password=password)
    assert user is not None, f"{email} cannot sign in with that password"
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = user.backend
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "domain": "127.0.0.1",
                "path": "/",
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    page.goto(next_path or ("/instructor" if user.is_instructor else "/dashboard"))


def wait_live(page) -> None:
    page.wait_for_selector('#connection[data-state="live"]')


def in_thread(function: Callable[[], Any]) -> Any:
    """Run ORM work that publishes events in a thread of its own: Playwright's loop is
    registered as running on the main thread, where async_to_sync (the channel layer's
    group_send) refuses to run."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        from django.db import connection

        try:
            outcome["value"] = function()
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
