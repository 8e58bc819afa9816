"""Password reset and email verification over HTTP, with the links read from the mail
sent: the same answer for known and unknown emails, single-use and expiring links, a new
password through the validators ending every other session and token."""

import re

import pytest
from django.core import mail
from django.test import Client

from portal.accounts.models import AuthToken, User, UserSession
from portal.accounts.tokens import account_token_make
from tests.conftest import client_for
from tests.enrollment.helpers import after_commit
from tests.factories import PASSWORD, make_user, token_for

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "another-Long-passphrase-7"


def post(path: str, body: dict, client: Client | None = None):
    with after_commit():
        return (client or Client()).post(path, body, content_type="application/json")


def token_from(message, path: str) -> str:
    found = re.search(rf"{re.escape(path)}\?token=(\S+)", message.body)
    assert found, message.body
    return found.group(1)


def test_a_reset_request_answers_the_same_whether_or_not_the_email_has_an_account():
    make_user(email="ada@example.com", name="Ada")

    known = post("/api/auth/password-reset", {"email": "ada@example.com"})
    unknown = post("/api/auth/password-reset", {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert "/reset-password?token=" in mail.outbox[0].body
    assert mail.outbox[0].body.startswith("Hello Ada,")


def test_a_reset_link_sets_the_password_once_and_ends_every_session_and_token():
    user = make_user(email="ada@example.com")
    api_token = token_for(user)
    browser = Client()
    assert browser.login(email="ada@example.com", password=PASSWORD)
    assert UserSession.objects.filter(user=user).count() == 1
    post("/api/auth/password-reset", {"email": "ada@example.com"})
    token = token_from(mail.outbox[-1], "/reset-password")

    spaces = post("/api/auth/password-reset/confirm", {"token": token, "password": " " * 10})
    assert spaces.status_code == 400
    assert "cannot be only spaces" in " ".join(spaces.json()["error"]["fields"]["password"])
    done = post("/api/auth/password-reset/confirm", {"token": token, "password": NEW_PASSWORD})

    assert done.status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    again = post(
        "/api/auth/password-reset/confirm", {"token": token, "password": "x" + NEW_PASSWORD}
    )
    assert again.status_code == 400 and "token" in again.json()["error"]["fields"]
    # Everything signed in before is signed out.
    assert Client(HTTP_AUTHORIZATION=f"Bearer {api_token}").get("/api/me").status_code == 401
    assert browser.get("/api/me").status_code in (401, 403)
    assert not UserSession.objects.filter(user=user).exists()
    assert not AuthToken.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_a_reset_link_expires(settings):
    user = make_user()
    token = account_token_make(user=user, purpose="reset")
    settings.PASSWORD_RESET_TIMEOUT = -1  # any age is too old

    expired = post("/api/auth/password-reset/confirm", {"token": token, "password": NEW_PASSWORD})

    assert expired.status_code == 400 and "token" in expired.json()["error"]["fields"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_forged_or_other_purpose_token_does_nothing():
    user = make_user(email_verified_at=None)
    verify = account_token_make(user=user, purpose="verify")

    as_reset = post("/api/auth/password-reset/confirm", {"token": verify, "password": NEW_PASSWORD})
    forged = post("/api/auth/verify-email", {"token": verify[:-2] + "xx"})

    assert as_reset.status_code == 400 and forged.status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and not user.email_verified


def test_registration_sends_a_verification_link_that_verifies_once():
    registered = post(
        "/api/auth/register",
        {"email": "nora@example.com", "password": NEW_PASSWORD, "name": "Nora"},
    )
    assert registered.json()["user"]["email_verified"] is False
    [message] = mail.outbox
    assert message.to == ["nora@example.com"]
    token = token_from(message, "/verify-email")

    verified = post("/api/auth/verify-email", {"token": token})

    assert verified.status_code == 200 and verified.json()["user"]["email_verified"] is True
    assert post("/api/auth/verify-email", {"token": token}).status_code == 400


def test_an_email_change_takes_effect_only_when_the_new_address_is_verified():
    user = make_user(email="old@example.com")
    user.pending_email = "new@example.com"
    user.save(update_fields=["pending_email"])
    with after_commit():
        resent = client_for(user).post("/api/auth/verify-email/resend")
    assert resent.status_code == 202 and "new@example.com" in resent.json()["detail"]
    [message] = mail.outbox
    assert message.to == ["new@example.com"]
    assert User.objects.get(pk=user.pk).email == "old@example.com"

    post("/api/auth/verify-email", {"token": token_from(message, "/verify-email")})

    user.refresh_from_db()
    assert (user.email, user.pending_email, user.email_verified) == ("new@example.com", "", True)


def test_an_email_taken_meanwhile_is_not_applied():
    user = make_user(email="old@example.com")
    user.pending_email = "taken@example.com"
    user.save(update_fields=["pending_email"])
    token = account_token_make(user=user, purpose="verify")
    make_user(email="taken@example.com")

    answer = post("/api/auth/verify-email", {"token": token})

    assert answer.status_code == 409 and answer.json()["error"]["code"] == "email_taken"
    assert User.objects.get(pk=user.pk).email == "old@example.com"


def test_reset_requests_are_throttled_per_email_from_any_address(rate_limits):
    make_user(email="ada@example.com")
    answers = [
        post(
            "/api/auth/password-reset",
            {"email": "ada@example.com"},
            client=Client(REMOTE_ADDR=f"10.0.0.{index}"),
        )
        for index in range(1, 6)
    ]

    assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
    assert len(mail.outbox) == 3
    # An unknown email meets the same limit (nothing tells the two apart).
    unknown = [
        post(
            "/api/auth/password-reset",
            {"email": "nobody@example.com"},
            client=Client(REMOTE_ADDR=f"10.0.1.{index}"),
        ).status_code
        for index in range(1, 6)
    ]
    assert unknown == [202, 202, 202, 429, 429]
