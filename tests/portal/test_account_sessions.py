"""Where an account is signed in (GET/DELETE /api/me/sessions), when each sign-in was
last used, a new password (POST /api/me/password) and profile changes (PATCH /api/me).
Ending a sign-in is checked against a running server with real websockets: the socket
it opened must close with 4401."""

import asyncio
import json
from datetime import timedelta
from importlib import import_module

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from portal.accounts.models import AuthToken, User, UserSession, hash_token
from portal.accounts.signins import user_sessions_prune
from portal.outbox.models import Effect
from tests.conftest import client_for
from tests.factories import PASSWORD, make_user, token_for
from tests.portal import accounts_live
from tests.portal.accounts_live import (
    CURL,
    FIREFOX,
    Browser,
    close_code,
    open_ws,
    token_call,
)

server = accounts_live.server  # the running server, one per module


def browser_for(user: User, user_agent: str = FIREFOX) -> Client:
    """A browser signed in through POST /api/auth/login, as the sign-in page does."""
    browser = Client(HTTP_USER_AGENT=user_agent)
    answer = browser.post(
        "/api/auth/login", {"email": user.email, "password": PASSWORD}, "application/json"
    )
    assert answer.status_code == 200
    return browser


def token_client(user: User, user_agent: str = CURL) -> tuple[APIClient, str]:
    token = token_for(user)
    client = APIClient(HTTP_USER_AGENT=user_agent)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client, token


def session_row(browser: Client) -> UserSession:
    return UserSession.objects.get(session_key=browser.cookies["sessionid"].value)


def writes_to(queries: CaptureQueriesContext, table: str) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(("UPDATE", "INSERT")) and f'"{table}"' in q["sql"]
    ]


# --- the list -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_sessions_and_tokens_and_marks_the_callers_own():
    user = make_user()
    browser = browser_for(user)
    api, token = token_client(user)

    from_token = api.get("/api/me/sessions")
    from_browser = browser.get("/api/me/sessions")

    assert from_token.status_code == from_browser.status_code == 200
    row = session_row(browser)
    token_row = AuthToken.objects.get(key_hash=hash_token(token))
    by_id = {item["id"]: item for item in from_token.json()}
    assert set(by_id) == {f"s{row.pk}", f"t{token_row.pk}"}
    assert by_id[f"t{token_row.pk}"]["kind"] == "token"
    assert by_id[f"t{token_row.pk}"]["current"] is True
    assert by_id[f"t{token_row.pk}"]["user_agent"] == CURL  # noted on its first use
    assert by_id[f"s{row.pk}"] | {"last_used_at": None} == {
        "id": f"s{row.pk}",
        "kind": "session",
        "created_at": by_id[f"s{row.pk}"]["created_at"],
        "last_used_at": None,
        "current": False,
        "user_agent": FIREFOX,
    }
    # The caller's own comes first, whoever asks.
    assert from_token.json()[0]["id"] == f"t{token_row.pk}"
    assert [item["id"] for item in from_browser.json() if item["current"]] == [f"s{row.pk}"]
    assert from_browser.json()[0]["id"] == f"s{row.pk}"


@pytest.mark.django_db
def test_ended_expired_and_revoked_sign_ins_are_not_listed():
    user = make_user()
    token_client(user)  # a valid token, listed
    expired, revoked = token_for(user), token_for(user)
    AuthToken.objects.filter(key_hash=hash_token(expired)).update(expires_at=timezone.now())
    AuthToken.objects.filter(key_hash=hash_token(revoked)).update(revoked_at=timezone.now())
    signed_out = browser_for(user)
    stale_key = signed_out.cookies["sessionid"].value
    # Its Django session is gone (cleared by an operator, expired): the row alone remains.
    import_module(settings.SESSION_ENGINE).SessionStore(session_key=stale_key).delete()
    browser_for(user)  # signed out below by a password set elsewhere
    User.objects.filter(pk=user.pk).update(password="changed-in-the-admin")
    user.refresh_from_db()
    api_after, _ = token_client(user)

    listed = api_after.get("/api/me/sessions").json()

    assert UserSession.objects.filter(user=user).count() == 2  # rows of no valid session
    assert [item["kind"] for item in listed] == ["token", "token"]
    kept = {item["id"] for item in listed}
    assert f"t{AuthToken.objects.get(key_hash=hash_token(expired)).pk}" not in kept
    assert f"t{AuthToken.objects.get(key_hash=hash_token(revoked)).pk}" not in kept


@pytest.mark.django_db
def test_rows_of_sessions_that_ended_without_a_sign_out_are_pruned():
    user = make_user()
    kept, expired, cleared = browser_for(user), browser_for(user), browser_for(user)
    Session.objects.filter(session_key=expired.cookies["sessionid"].value).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    Session.objects.filter(session_key=cleared.cookies["sessionid"].value).delete()

    assert user_sessions_prune() == 2

    assert list(UserSession.objects.values_list("session_key", flat=True)) == [
        kept.cookies["sessionid"].value
    ]


@pytest.mark.django_db
def test_the_list_needs_a_signed_in_caller(api):
    answer = api.get("/api/me/sessions")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_authenticated"


# --- ending one or all but this one ---------------------------------------------------------


@pytest.mark.django_db
def test_another_accounts_ids_and_nonsense_are_404():
    owner, stranger = make_user(), make_user()
    their_browser = browser_for(stranger)
    _, their_token = token_client(stranger)
    api, _ = token_client(owner)
    theirs = [
        f"s{session_row(their_browser).pk}",
        f"t{AuthToken.objects.get(key_hash=hash_token(their_token)).pk}",
    ]

    for signin_id in [*theirs, "s0", "t99999999", "x1", "s1a", "12"]:
        answer = api.delete(f"/api/me/sessions/{signin_id}")
        assert answer.status_code == 404, signin_id
        assert answer.json()["error"]["code"] == "not_found"

    assert their_browser.get("/api/me").status_code == 200
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {their_token}").get("/api/me").status_code == 200


@pytest.mark.django_db
def test_ending_ones_own_session_signs_this_browser_out():
    user = make_user()
    browser = browser_for(user)

    answer = browser.delete(f"/api/me/sessions/s{session_row(browser).pk}")

    assert answer.status_code == 204
    assert browser.get("/api/me").status_code == 401
    assert not UserSession.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_sign_out_everywhere_else_from_a_token_keeps_that_token_only():
    user = make_user()
    other_browser = browser_for(user)
    api, _ = token_client(user)
    _, other_token = token_client(user)

    answer = api.delete("/api/me/sessions")

    assert answer.status_code == 200
    assert answer.json() == {"ended": 2}
    assert other_browser.get("/api/me").status_code == 401
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {other_token}").get("/api/me").status_code == 401
    listed = api.get("/api/me/sessions").json()
    assert [(item["kind"], item["current"]) for item in listed] == [("token", True)]


# --- last use ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_tokens_last_use_moves_at_most_once_a_minute():
    user = make_user()
    api, token = token_client(user, user_agent=CURL)
    row = AuthToken.objects.get(key_hash=hash_token(token))
    assert row.last_used_at is None

    api.get("/api/me")
    row.refresh_from_db()
    first = row.last_used_at
    assert first is not None and row.user_agent == CURL

    # Within the minute: the row read to authenticate says it is recent; nothing written.
    other_agent = APIClient(HTTP_USER_AGENT="Other/1.0", HTTP_AUTHORIZATION=f"Bearer {token}")
    with CaptureQueriesContext(connection) as queries:
        assert other_agent.get("/api/me").status_code == 200
    assert writes_to(queries, "accounts_authtoken") == []
    row.refresh_from_db()
    assert row.last_used_at == first

    # A minute on, the next request moves it (and the first client's name stays).
    AuthToken.objects.filter(pk=row.pk).update(last_used_at=first - timedelta(minutes=2))
    other_agent.get("/api/me")
    row.refresh_from_db()
    assert row.last_used_at > first
    assert row.user_agent == CURL


@pytest.mark.django_db
def test_a_sessions_last_use_moves_at_most_once_a_minute(django_assert_max_num_queries):
    user = make_user()
    browser = browser_for(user)
    row = session_row(browser)
    long_ago = timezone.now() - timedelta(minutes=5)
    UserSession.objects.filter(pk=row.pk).update(last_used_at=long_ago)
    cache.clear()

    browser.get("/api/me")
    row.refresh_from_db()
    moved = row.last_used_at
    assert moved > long_ago + timedelta(minutes=4)

    # The rest of the minute costs no write and no query of the row: the session's user
    # and the answer only.
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert browser.get("/api/me").status_code == 200
    assert writes_to(queries, "accounts_usersession") == []
    assert not any("accounts_usersession" in q["sql"] for q in queries.captured_queries)
    row.refresh_from_db()
    assert row.last_used_at == moved
    with django_assert_max_num_queries(2):  # the session (cached_db), the user
        browser.get("/api/me")


@pytest.mark.django_db
def test_a_session_signed_in_before_rows_existed_gets_one_on_its_next_request():
    user = make_user()
    browser = browser_for(user, user_agent=FIREFOX)
    key = browser.cookies["sessionid"].value
    UserSession.objects.filter(session_key=key).delete()  # as sessions from before the change
    cache.clear()

    assert browser.get("/api/me").status_code == 200

    row = UserSession.objects.get(session_key=key)
    assert (row.user_id, row.user_agent) == (user.pk, FIREFOX)
    listed = browser.get("/api/me/sessions").json()
    assert [(item["id"], item["current"]) for item in listed] == [(f"s{row.pk}", True)]


@pytest.mark.django_db
def test_requests_without_a_session_touch_no_session_row():
    user = make_user()
    api, _ = token_client(user)
    with CaptureQueriesContext(connection) as queries:
        api.get("/api/me")
        Client().get("/api/courses")
    assert not any("accounts_usersession" in q["sql"] for q in queries.captured_queries)


# --- a new password -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_wrong_current_password_is_refused():
    user = make_user()
    browser = browser_for(user)

    answer = browser.post(
        "/api/me/password",
        {"current_password": "not-it", "new_password": "a-brand-new-passphrase"},
        "application/json",
    )

    assert answer.status_code == 400
    assert list(answer.json()["error"]["fields"]) == ["current_password"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("          ", "cannot be only spaces"),
        ("password123", "too common"),
        ("short", "too short"),
    ],
)
def test_a_weak_new_password_is_refused(new_password, message):
    user = make_user()
    api, _ = token_client(user)

    answer = api.post(
        "/api/me/password",
        {"current_password": PASSWORD, "new_password": new_password},
        format="json",
    )

    assert answer.status_code == 400
    assert message in " ".join(answer.json()["error"]["fields"]["new_password"])
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_a_new_password_ends_every_other_sign_in_and_keeps_this_browser():
    user = make_user()
    browser = browser_for(user)
    old_key = browser.cookies["sessionid"].value
    other_browser = browser_for(user, user_agent="Other browser")
    other_api, _ = token_client(user)

    answer = browser.post(
        "/api/me/password",
        {"current_password": PASSWORD, "new_password": "a-brand-new-passphrase"},
        "application/json",
    )

    assert answer.status_code == 200
    assert answer.json()["ended"] == 2
    assert answer.json()["user"]["id"] == user.pk
    assert browser.get("/api/me").status_code == 200  # still signed in, under a new key
    new_key = browser.cookies["sessionid"].value
    assert new_key != old_key
    assert other_browser.get("/api/me").status_code == 401
    assert other_api.get("/api/me").status_code == 401
    listed = browser.get("/api/me/sessions").json()
    assert [(item["id"], item["current"]) for item in listed] == [
        (f"s{UserSession.objects.get(session_key=new_key).pk}", True)
    ]
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")


@pytest.mark.django_db
def test_a_new_password_from_a_token_keeps_that_token():
    user = make_user()
    api, _ = token_client(user)
    browser = browser_for(user)

    answer = api.post(
        "/api/me/password",
        {"current_password": PASSWORD, "new_password": "a-brand-new-passphrase"},
        format="json",
    )

    assert answer.status_code == 200
    assert api.get("/api/me").status_code == 200
    assert browser.get("/api/me").status_code == 401


@pytest.mark.django_db
def test_password_attempts_are_rate_limited_per_account(rate_limits, settings):
    settings.RATE_LIMITS = {**rate_limits, "password_change": (2, 3600)}
    user = make_user()
    api, _ = token_client(user)
    body = {"current_password": "guess", "new_password": "a-brand-new-passphrase"}

    statuses = [api.post("/api/me/password", body, format="json").status_code for _ in range(3)]

    assert statuses == [400, 400, 429]


# --- PATCH /api/me ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_name_applies_at_once():
    user = make_user(name="Old Name")
    answer = client_for(user).patch("/api/me", {"name": "New Name"}, format="json")
    assert answer.status_code == 200
    assert answer.json()["name"] == "New Name"
    user.refresh_from_db()
    assert user.name == "New Name"


@pytest.mark.django_db
def test_a_new_email_waits_for_its_link():
    user = make_user(email="old@example.test")

    answer = client_for(user).patch("/api/me", {"email": "New@Example.test"}, format="json")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["email"], body["pending_email"], body["email_verified"]) == (
        "old@example.test",
        "new@example.test",
        True,
    )
    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("old@example.test", "new@example.test")
    owed = [
        effect.payload
        for effect in Effect.objects.all()
        if effect.payload.get("name") == "portal.accounts.tasks.send_verification_email"
    ]
    assert owed == [{"name": "portal.accounts.tasks.send_verification_email", "args": [user.pk]}]


@pytest.mark.django_db
def test_the_verification_mail_goes_to_the_new_address(
    django_capture_on_commit_callbacks, mailoutbox
):
    user = make_user(email="old@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            client_for(user)
            .patch("/api/me", {"email": "new@example.test"}, format="json")
            .status_code
            == 200
        )
    assert [message.to for message in mailoutbox] == [["new@example.test"]]


@pytest.mark.django_db
def test_asking_for_the_email_in_use_calls_a_pending_change_off():
    user = make_user(email="old@example.test")
    api = client_for(user)
    api.patch("/api/me", {"email": "new@example.test"}, format="json")
    Effect.objects.all().delete()

    answer = api.patch("/api/me", {"email": "old@example.test"}, format="json")

    assert answer.json()["pending_email"] is None
    assert not Effect.objects.exists()  # nothing is mailed for the address in use


@pytest.mark.django_db
def test_an_email_another_account_uses_is_refused_as_registration_refuses_it(api):
    make_user(email="taken@example.test")
    user = make_user()
    registration = api.post(
        "/api/auth/register",
        {"email": "taken@example.test", "password": "a-long-passphrase", "name": "X"},
        format="json",
    )

    answer = client_for(user).patch("/api/me", {"email": "Taken@example.test"}, format="json")

    assert answer.status_code == 400
    assert (
        answer.json()["error"]["fields"]["email"] == registration.json()["error"]["fields"]["email"]
    )
    user.refresh_from_db()
    assert user.pending_email == ""
    assert not Effect.objects.exists()


@pytest.mark.django_db
def test_profile_changes_need_a_signed_in_caller(api):
    assert api.patch("/api/me", {"name": "X"}, format="json").status_code == 401


# --- against a running server, with real websockets ---------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.live
async def test_ending_a_session_signs_its_cookie_out_and_closes_its_socket(server):
    user = await database_sync_to_async(make_user)()
    token = await database_sync_to_async(token_for)(user)
    browser = await asyncio.to_thread(Browser(server).sign_in, user.email)
    socket, hello = await open_ws(server, browser=browser)
    assert hello["user"]["id"] == user.pk

    _, listed = await asyncio.to_thread(token_call, server, token, "GET", "/api/me/sessions")
    (session_id,) = [item["id"] for item in listed if item["kind"] == "session"]
    status, _ = await asyncio.to_thread(
        token_call, server, token, "DELETE", f"/api/me/sessions/{session_id}"
    )

    assert status == 204
    assert await close_code(socket) == 4401
    assert (await asyncio.to_thread(browser.call, "GET", "/api/me"))[0] == 401
    _, listed = await asyncio.to_thread(token_call, server, token, "GET", "/api/me/sessions")
    assert [item["kind"] for item in listed] == ["token"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.live
async def test_ending_a_token_refuses_it_and_closes_its_socket(server):
    user = await database_sync_to_async(make_user)()
    caller = await database_sync_to_async(token_for)(user)
    ended = await database_sync_to_async(token_for)(user)
    socket, _ = await open_ws(server, token=ended)
    token_id = await database_sync_to_async(
        lambda: AuthToken.objects.get(key_hash=hash_token(ended)).pk
    )()

    status, _ = await asyncio.to_thread(
        token_call, server, caller, "DELETE", f"/api/me/sessions/t{token_id}"
    )

    assert status == 204
    assert await close_code(socket) == 4401
    assert (await asyncio.to_thread(token_call, server, ended, "GET", "/api/me"))[0] == 401
    assert (await asyncio.to_thread(token_call, server, caller, "GET", "/api/me"))[0] == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.live
async def test_sign_out_everywhere_else_keeps_only_the_callers_session(server):
    user = await database_sync_to_async(make_user)()
    here = await asyncio.to_thread(Browser(server).sign_in, user.email)
    elsewhere = await asyncio.to_thread(Browser(server, "Another browser").sign_in, user.email)
    token = await database_sync_to_async(token_for)(user)
    own_socket, _ = await open_ws(server, browser=here)
    their_socket, _ = await open_ws(server, browser=elsewhere)
    token_socket, _ = await open_ws(server, token=token)

    status, body = await asyncio.to_thread(here.call, "DELETE", "/api/me/sessions")

    assert (status, body) == (200, {"ended": 2})
    assert await close_code(their_socket) == 4401
    assert await close_code(token_socket) == 4401
    assert (await asyncio.to_thread(elsewhere.call, "GET", "/api/me"))[0] == 401
    assert (await asyncio.to_thread(token_call, server, token, "GET", "/api/me"))[0] == 401
    status, listed = await asyncio.to_thread(here.call, "GET", "/api/me/sessions")
    assert status == 200
    assert [(item["kind"], item["current"]) for item in listed] == [("session", True)]
    # The caller's own socket stays open: it still answers.
    await own_socket.send(json.dumps({"type": "ping"}))
    frame = json.loads(await asyncio.wait_for(own_socket.recv(), 10))
    while frame["type"] == "heartbeat":
        frame = json.loads(await asyncio.wait_for(own_socket.recv(), 10))
    assert frame == {"type": "pong"}
    await own_socket.close()
