"""Registration, tokens, /api/me and logout, over HTTP against PostgreSQL."""

import pytest
from django.utils import timezone

from portal.accounts.models import AuthToken, User
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_register_returns_user_and_working_token(api):
    response = api.post(
        "/api/auth/register",
        {"email": "Ada@Example.com", "password": "a-long-passphrase", "name": "Ada"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"] == {
        "id": body["user"]["id"],
        "email": "ada@example.com",
        "name": "Ada",
        "roles": ["student"],
        "email_verified": False,
        "pending_email": None,
    }
    assert len(body["token"]) >= 40
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    me = api.get("/api/me")
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.com"


def test_token_is_stored_only_as_hash(api):
    body = api.post(
        "/api/auth/register",
        {"email": "h@example.com", "password": "a-long-passphrase", "name": "H"},
        format="json",
    ).json()
    stored = AuthToken.objects.get(user__email="h@example.com")
    assert body["token"] not in (stored.key_hash, stored.prefix + "x")
    assert not AuthToken.objects.filter(key_hash=body["token"]).exists()


def test_register_rejects_duplicate_email_case_insensitively(api):
    make_user(email="taken@example.com")
    response = api.post(
        "/api/auth/register",
        {"email": "TAKEN@example.com", "password": "a-long-passphrase", "name": "Other"},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "email" in error["fields"]
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


@pytest.mark.parametrize(
    ("payload", "bad_fields"),
    [
        ({"email": "not-an-email", "password": "a-long-passphrase", "name": "X"}, {"email"}),
        ({"email": "x@example.com", "password": "123", "name": "X"}, {"password"}),
        ({"email": "x@example.com", "password": "password", "name": "X"}, {"password"}),
        ({"password": "a-long-passphrase"}, {"email", "name"}),
        ({"email": ["x@example.com"], "password": 5, "name": {"a": 1}}, {"email", "name"}),
    ],
)
def test_register_validation_errors_name_the_fields(api, payload, bad_fields):
    response = api.post("/api/auth/register", payload, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert bad_fields <= set(error["fields"])
    assert not User.objects.exists()


def test_token_endpoint_issues_tokens_for_valid_credentials(api):
    user = make_user(email="t@example.com", name="T")
    response = api.post(
        "/api/auth/token", {"email": "T@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["user"]["id"] == user.id
    assert AuthToken.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "t@example.com", "password": "wrong-password"},
        {"email": "nobody@example.com", "password": PASSWORD},
    ],
)
def test_token_endpoint_answers_401_on_bad_credentials(api, credentials):
    make_user(email="t@example.com")
    response = api.post("/api/auth/token", credentials, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_inactive_user_gets_no_token(api):
    make_user(email="gone@example.com", is_active=False)
    response = api.post(
        "/api/auth/token", {"email": "gone@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 401


def test_me_requires_credentials(api):
    response = api.get("/api/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Bearer not-a-real-token", "Bearer", "Bearer a b", "Bearer \u00ff\u00fe"]
)
def test_me_rejects_bad_tokens_with_401(api, header):
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_expired_and_revoked_tokens_stop_working(api):
    user = make_user()
    expired, raw_expired = AuthToken.objects.issue(user)
    AuthToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_expired}")
    assert api.get("/api/me").status_code == 401

    _, raw = AuthToken.objects.issue(user)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/me").status_code == 200
    assert api.post("/api/auth/logout").status_code == 204
    assert api.get("/api/me").status_code == 401


def test_roles_reflect_instructor_and_staff(api):
    user = make_user(is_instructor=True, is_staff=True)
    api.force_authenticate(user)
    assert api.get("/api/me").json()["roles"] == ["student", "instructor", "staff"]


def test_session_login_works_for_browser_pages(client):
    user = make_user(email="browser@example.com")
    assert client.login(username="browser@example.com", password=PASSWORD)
    response = client.get("/api/me")
    assert response.status_code == 200
    assert response.json()["id"] == user.id


def test_browser_session_login_needs_csrf_and_starts_a_session():
    from django.test import Client

    user = make_user(email="pages@example.com")
    client = Client(enforce_csrf_checks=True)
    refused = client.post(
        "/api/auth/login",
        {"email": "pages@example.com", "password": PASSWORD},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"

    client.get("/")  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/auth/login",
        {"email": "pages@example.com", "password": PASSWORD},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200
    assert response.json()["user"]["id"] == user.id
    assert client.get("/api/me").json()["id"] == user.id

    token = client.cookies["csrftoken"].value  # rotated by the login
    bad = client.post(
        "/api/auth/login",
        {"email": "pages@example.com", "password": "wrong"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert bad.status_code == 401


def test_session_sign_in_is_rate_limited_per_email(api, rate_limits):
    limit, window = rate_limits["login"]
    make_user(email="limited@example.com")
    wrong = {"email": "limited@example.com", "password": "wrong-password"}

    answers = [api.post("/api/auth/login", wrong, format="json").status_code for _ in range(limit)]
    throttled = api.post("/api/auth/login", {**wrong, "password": PASSWORD}, format="json")

    assert answers == [401] * limit
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= window + 1
