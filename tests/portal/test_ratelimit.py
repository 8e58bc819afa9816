"""Rate limits beyond the API's own sign-in: the admin's sign-in page, and what every scope
does when the cache (Redis) is down: a private redis-server the test starts and stops."""

import json
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory

from portal.accounts.models import User
from portal.ratelimit import rate_limit
from tests.factories import PASSWORD, make_course, make_user
from tests.redis_server import PrivateRedis

pytestmark = pytest.mark.django_db
WINDOW = 3600  # long windows: a test never straddles a window boundary


def admin_login(username: str, password: str, remote_addr: str = "127.0.0.1"):
    return Client(REMOTE_ADDR=remote_addr).post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )


def post_json(path: str, body: dict, remote_addr: str = "127.0.0.1"):
    return Client(REMOTE_ADDR=remote_addr).post(
        path, json.dumps(body), content_type="application/json"
    )


# --- /admin/login/ -------------------------------------------------------------------------


def test_admin_sign_in_is_limited_per_username_like_the_api(settings, rate_limits):
    settings.RATE_LIMITS = {**rate_limits, "login": (3, WINDOW), "login_ip": (100, WINDOW)}
    staff = make_user(is_staff=True, is_superuser=True)

    wrong = [admin_login(staff.email, "wrong-password").status_code for _ in range(3)]
    right = admin_login(staff.email, PASSWORD)

    assert wrong == [200, 200, 200]  # the form again, with its error
    assert right.status_code == 429
    assert 0 < int(right["Retry-After"]) <= WINDOW + 1
    assert "sessionid" not in right.cookies
    # Another address may still sign in with that username; the limit is per address.
    assert admin_login(staff.email, PASSWORD, remote_addr="10.0.0.7").status_code == 302


def test_admin_and_api_sign_in_share_one_budget(settings, rate_limits):
    settings.RATE_LIMITS = {**rate_limits, "login": (3, WINDOW), "login_ip": (100, WINDOW)}
    staff = make_user(is_staff=True)

    for _ in range(2):
        post_json("/api/auth/token", {"email": staff.email, "password": "wrong-password"})
    admin_login(staff.email, "wrong-password")

    assert admin_login(staff.email, PASSWORD).status_code == 429
    answer = post_json("/api/auth/token", {"email": staff.email, "password": PASSWORD})
    assert answer.status_code == 429


def test_admin_sign_in_is_limited_per_address_across_usernames(settings, rate_limits):
    settings.RATE_LIMITS = {**rate_limits, "login": (100, WINDOW), "login_ip": (2, WINDOW)}

    assert admin_login("a@example.com", "x").status_code == 200
    assert admin_login("b@example.com", "x").status_code == 200
    assert admin_login("c@example.com", "x").status_code == 429
    assert admin_login("c@example.com", "x", remote_addr="10.0.0.8").status_code == 200


# --- the cache down ------------------------------------------------------------------------


@pytest.fixture
def cache_down(settings, rate_limits) -> Iterator[PrivateRedis]:
    """The portal's cache on a private redis-server, which is then stopped."""
    redis = PrivateRedis().start()
    try:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis.url,
                "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
            }
        }  # the setting_changed signal gives `cache` a connection to it
        cache.set("probe", 1)
        assert cache.get("probe") == 1  # really on the private server
        redis.stop()
        yield redis
    finally:
        redis.stop()


def test_credential_scopes_fail_closed_with_503(cache_down):
    user = make_user(is_staff=True)

    answers = {
        "token": post_json("/api/auth/token", {"email": user.email, "password": PASSWORD}),
        "login": post_json("/api/auth/login", {"email": user.email, "password": PASSWORD}),
        "register": post_json(
            "/api/auth/register",
            {"email": "new@example.com", "password": "a-long-unusual-passphrase", "name": "N"},
        ),
    }

    for name, response in answers.items():
        assert response.status_code == 503, (name, response.content)
        assert response.json()["error"]["code"] == "unavailable", name
    assert not User.objects.filter(email="new@example.com").exists()
    assert admin_login(user.email, PASSWORD).status_code == 503


def test_enrollment_scopes_fail_open(cache_down, caplog):
    # The enrollment limits let the request through with a warning; the seat rule and
    # idempotency do not depend on the cache.
    request = RequestFactory().post("/api/enrollments", REMOTE_ADDR="10.0.0.5")
    rate_limit(request, "enroll")
    rate_limit(request, "enroll_ip")
    assert [r for r in caplog.records if "ratelimit.cache_unavailable" in r.getMessage()]


def test_paid_enrollments_fail_closed_on_the_decline_limit(cache_down):
    course = make_course(price="49.00", capacity=3)
    body = {
        "course": course.slug,
        "student": {"email": "guest@example.com", "name": "Guest"},
        "payment_method": "pm_card_visa",
    }

    response = post_json("/api/enrollments", body)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    course.refresh_from_db()
    assert course.seats_taken == 0
