"""The page views: templates only, the CSRF cookie on every page, and the strict
Content-Security-Policy (frontend/csp.py) on HTML answers."""

import json
import re

import pytest
from django.test import Client

from catalog.media.storage import media_origins
from catalog.shapes import Level
from enrollment.models import ACCESS_STATUSES, LIVE_STATUSES
from enrollment.shapes import EnrollmentStatus
from tests.factories import PASSWORD, make_course, make_instructor, make_user
from tests.live import ROOT

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/courses/intro-to-python",
    "/signin",
    "/register",
    "/dashboard",
    "/learn/1",
    "/learn/1/2",
    "/instructor",
]


def policy_of(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def intro_course(db):
    """The course the course-page paths name: the page is a 404 for a course nobody may see."""
    return make_course(slug="intro-to-python", title="Intro to Python")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_the_csrf_cookie_and_a_strict_policy(path, intro_course):
    response = Client().get(path)
    assert response.status_code == 200
    assert "csrftoken" in response.cookies
    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'", "ws://testserver"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["worker-src"] == ["'self'"]
    assert policy["manifest-src"] == ["'self'"]
    # The test gateway's 3-D Secure challenge opens in a frame of the course page.
    assert policy["frame-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    body = response.content.decode()
    # No inline script, inline handler or inline style anywhere in the markup.
    assert "<script>" not in body and '<script type="module">' not in body
    assert " style=" not in body and " onclick=" not in body and " onload=" not in body
    assert 'type="module" src="/static/js/pages/' in body
    assert '<link rel="manifest" href="/manifest.webmanifest">' in body


def test_stripe_is_allowed_only_when_a_publishable_key_is_set(settings, intro_course):
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_123"
    response = Client().get("/courses/intro-to-python", secure=True)
    policy = policy_of(response)
    assert "https://js.stripe.com" in policy["script-src"]
    assert "https://js.stripe.com" in policy["frame-src"]
    assert "https://api.stripe.com" in policy["connect-src"]
    assert "wss://testserver" in policy["connect-src"]
    assert b'<meta name="stripe-key" content="pk_test_123">' in response.content
    assert b"test-methods" not in response.content  # Elements replaces the test cards


def test_the_test_gateway_cards_show_without_a_key(intro_course):
    body = Client().get("/courses/intro-to-python").content.decode()
    for method in [
        "pm_card_visa",
        "pm_card_mastercard",
        "pm_card_chargeDeclined",
        "pm_card_chargeDeclinedInsufficientFunds",
        "pm_card_authenticationRequired",
    ]:
        assert f'value="{method}"' in body
    assert "stripe-key" not in body


def test_api_answers_and_the_admin_get_no_page_policy():
    assert "Content-Security-Policy" not in Client().get("/api/courses")
    assert "Content-Security-Policy" not in Client().get("/admin/login/")


def test_signed_in_pages_know_the_user_and_instructor_pages_need_the_role():
    student = make_user(email="s@example.com", name="Sam <b>Student</b>")
    client = Client()
    assert client.login(email="s@example.com", password=PASSWORD)
    page = client.get("/dashboard").content.decode()
    assert f'data-user-id="{student.pk}"' in page
    assert "Sam &lt;b&gt;Student&lt;/b&gt;" in page  # escaped by the template
    assert 'src="/static/js/pages/dashboard.js"' in page
    assert "This page is for instructors" in client.get("/instructor").content.decode()

    make_instructor(email="i@example.com")
    teacher = Client()
    assert teacher.login(email="i@example.com", password=PASSWORD)
    page = teacher.get("/instructor").content.decode()
    assert 'src="/static/js/pages/instructor.js"' in page
    assert 'data-user-instructor="true"' in page


def test_signed_out_pages_offer_sign_in_with_a_return_path():
    page = Client().get("/learn/3/4").content.decode()
    assert 'href="/signin?next=/learn/3/4"' in page
    assert "pages/plain.js" in page


def test_level_options_and_labels_come_from_the_enums():
    body = Client().get("/").content.decode()
    start = body.index('<select id="filter-level">')
    select = body[start : body.index("</select>", start)]
    options = re.findall(r'<option value="([^"]*)">([^<]*)</option>', select)
    assert options == [("", "All levels"), *Level.choices]
    data = re.search(
        r'<script id="portal-labels" type="application/json">(.*?)</script>', body
    ).group(1)
    assert json.loads(data) == {
        "level": dict(Level.choices),
        "enrollment_status": dict(EnrollmentStatus.choices),
        "enrollment_live": ["pending", "active", "completed"],
        "enrollment_access": ["active", "completed"],
    }
    assert json.loads(data)["enrollment_live"] == list(LIVE_STATUSES)
    assert json.loads(data)["enrollment_access"] == list(ACCESS_STATUSES)


# --- the installable app -----------------------------------------------------------------


def test_the_service_worker_is_served_from_the_root_with_its_shell_and_version():
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    source = response.content.decode()
    line = next(line for line in source.splitlines() if line.startswith("const CONFIG = "))
    config = json.loads(line.removeprefix("const CONFIG = ").removesuffix(";"))
    assert re.fullmatch(r"[0-9a-f]{16}", config["version"])
    for url in ["/static/css/portal.css", "/static/js/lesson.js", "/static/js/pages/lesson.js"]:
        assert url in config["shell"]
    assert not [url for url in config["shell"] if "/tests/" in url]
    # The worker never keeps media: signed URLs that expire, and range requests.
    assert "MEDIA_DESTINATIONS" in source and 'headers.has("range")' in source


def test_the_web_app_manifest_names_the_app_and_its_icons():
    response = Client().get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] == "Learning Portal"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/dashboard",
        "/",
        "standalone",
    )
    assert manifest["theme_color"] == "#4f46e5"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert sizes == {
        ("192x192", "any"),
        ("512x512", "any"),
        ("192x192", "maskable"),
        ("512x512", "maskable"),
    }
    for icon in manifest["icons"]:
        png = Client().get(icon["src"])
        assert png.status_code == 200
        body = b"".join(png.streaming_content) if png.streaming else png.content
        assert body.startswith(b"\x89PNG")
        width, height = int.from_bytes(body[16:20], "big"), int.from_bytes(body[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]


def test_the_lesson_page_may_fetch_captions_from_the_bucket_when_media_are_on_s3(settings):
    """The transcript is built from the captions file, fetched by the page: with media on
    S3 its origin is in connect-src as well as media-src (presigning needs no server)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "lessons",
                "endpoint_url": "http://127.0.0.1:9",
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "addressing_style": "path",
                "querystring_auth": True,
            },
        },
    }
    media_origins.cache_clear()
    try:
        policy = policy_of(Client().get("/learn/1/2"))
    finally:
        media_origins.cache_clear()
    assert policy["media-src"] == ["'self'", "http://127.0.0.1:9"]
    assert "http://127.0.0.1:9" in policy["connect-src"]


META_DESCRIPTION = re.compile(r'<meta name="description" content="([^"]+)">')


@pytest.mark.parametrize(
    "path",
    [
        *PAGES,
        "/search?q=python",
        "/forgot-password",
        "/reset-password",
        "/verify-email",
        "/claim",
        "/account",
        "/lessons/1",
        "/courses/no-such-course",
        "/certificates/NOPE-NOPE",
        "/no-such-page",
    ],
)
def test_every_page_has_one_meta_description(path, intro_course):
    body = Client().get(path).content.decode()
    found = META_DESCRIPTION.findall(body)
    assert len(found) == 1 and len(found[0]) >= 20, (path, found)
    assert body.count('name="description"') == 1, path


def test_an_unknown_address_is_the_portals_own_404_page():
    response = Client().get("/no-such-page")
    assert response.status_code == 404
    body = response.content.decode()
    assert "<title>Page not found · Learning Portal</title>" in body
    assert '<a class="brand" href="/"' in body and "<h1>Page not found</h1>" in body
    assert '<meta name="robots" content="noindex">' in body
    assert "script-src 'self'" in response["Content-Security-Policy"]
    # The API keeps its JSON error.
    assert Client().get("/api/no-such-thing").json()["error"]["code"] == "not_found"


IMPORT = re.compile(r"""^import\b[^;]*?from\s*["']\./([\w-]+\.js)["']\s*;""", re.M)


def test_every_page_preloads_app_js_and_all_it_imports():
    """base.html's modulepreload links: js/app.js (every page's module boots with it) and
    everything it imports, directly or not, so none waits for the one before it."""
    folder = ROOT / "frontend" / "static" / "js"
    wanted, todo = set(), ["app.js"]
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(IMPORT.findall((folder / name).read_text(encoding="utf-8")))
    body = Client().get("/signin").content.decode()
    preloaded = re.findall(r'<link rel="modulepreload" href="/static/js/([\w-]+\.js)">', body)
    assert sorted(preloaded) == sorted(wanted)
    assert preloaded[0] == "app.js"
