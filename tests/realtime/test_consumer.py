"""The /ws/ consumer through the real ASGI stack (origin validator, session and bearer
middleware) on the Redis channel layer, with WebsocketCommunicator."""

import json

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.db import transaction

from portal.events.models import UserEvent
from portal.events.publish import publish_to_user
from tests.factories import make_course, make_user
from tests.realtime.helpers import bearer, communicator, connected, numbered_event

# The consumer reads through database_sync_to_async in pool threads, each with a
# connection of its own: they see committed rows only.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def publish(user, count: int = 1) -> None:
    with transaction.atomic():
        for index in range(count):
            publish_to_user(user_id=user.pk, event=numbered_event(index))


async def test_anonymous_hello_has_no_user_and_seq_zero():
    socket, hello = await connected()
    assert hello == {"type": "hello", "user": None, "seq": 0}
    await socket.disconnect()


async def test_bearer_token_hello_names_the_user_and_latest_seq():
    user = await sync_to_async(make_user)(name="Tok")
    await sync_to_async(publish)(user, 3)
    socket, hello = await connected(token=await sync_to_async(bearer)(user))
    assert hello["user"] == {
        "id": user.pk,
        "email": user.email,
        "name": "Tok",
        "roles": ["student"],
        "email_verified": True,
        "pending_email": None,
    }
    assert hello["seq"] == 3
    await socket.disconnect()


async def test_session_cookie_authenticates_browsers():
    user = await sync_to_async(make_user)()
    socket, hello = await connected(session_of=user)
    assert hello["user"]["id"] == user.pk
    await socket.disconnect()


async def test_a_bad_bearer_token_is_refused():
    ok, _ = await communicator(token="not-a-token").connect(timeout=10)
    assert not ok


@pytest.mark.parametrize("origin", [b"http://evil.example.com", b"null"])
async def test_a_foreign_origin_is_refused(origin):
    ok, _ = await communicator(origin=origin).connect(timeout=10)
    assert not ok


async def test_ping_pong():
    socket, _ = await connected()
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
    await socket.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        ('{"no": "type"}', "invalid_frame"),
        ('{"type": 5}', "invalid_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "resume"}', "not_authenticated"),
        ('{"type": "watch"}', "invalid_frame"),
        ('{"type": "watch", "course": "no-such-course"}', "not_found"),
        ('{"type": "unwatch", "course": 7}', "invalid_frame"),
        ('{"type": "search", "q": "py"}', "invalid_frame"),
        ('{"type": "search", "id": 1, "q": 5}', "invalid_frame"),
        ('{"type": "search", "id": 1, "q": "py", "limit": 500}', "invalid_frame"),
        ('{"type": "search", "id": 1, "q": "py", "filters": {"level": "expert"}}', "invalid_frame"),
        (
            '{"type": "search", "id": 1, "q": "py", "filters": {"max_price": "abc"}}',
            "invalid_frame",
        ),
        ('{"type": "search", "id": 1, "q": "py", "filters": []}', "invalid_frame"),
        (json.dumps({"type": "ping", "pad": "x" * 10000}), "too_large"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_open(frame, code):
    socket, _ = await connected()
    await socket.send_to(text_data=frame)
    error = await socket.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["message"]
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
    await socket.disconnect()


async def test_resume_for_authenticated_user_needs_a_valid_after():
    user = await sync_to_async(make_user)()
    socket, _ = await connected(token=await sync_to_async(bearer)(user))
    await socket.send_json_to({"type": "resume", "after": -1})
    assert (await socket.receive_json_from(timeout=5))["code"] == "invalid_frame"
    await socket.disconnect()


async def test_resume_replays_missed_events_in_order_then_done():
    user = await sync_to_async(make_user)()
    await sync_to_async(publish)(user, 5)
    socket, hello = await connected(token=await sync_to_async(bearer)(user))
    assert hello["seq"] == 5
    await socket.send_json_to({"type": "resume", "after": 2})
    frames = [await socket.receive_json_from(timeout=5) for _ in range(3)]
    assert [frame["seq"] for frame in frames] == [3, 4, 5]
    assert [frame["lesson"] for frame in frames] == [2, 3, 4]
    assert all(frame["type"] == "progress.updated" for frame in frames)
    assert await socket.receive_json_from(timeout=5) == {"type": "resume.done", "seq": 5}
    await socket.disconnect()


async def test_resume_past_pruned_events_answers_gap():
    user = await sync_to_async(make_user)()
    await sync_to_async(publish)(user, 5)
    await sync_to_async(lambda: UserEvent.objects.filter(user=user, seq__lte=3).delete())()
    socket, _ = await connected(token=await sync_to_async(bearer)(user))
    await socket.send_json_to({"type": "resume", "after": 1})
    gap = await socket.receive_json_from(timeout=5)
    assert gap == {"type": "resume.gap", "after": 1, "seq": 5}
    # From a point still kept, resume works.
    await socket.send_json_to({"type": "resume", "after": 3})
    assert (await socket.receive_json_from(timeout=5))["seq"] == 4
    await socket.disconnect()


async def test_live_events_reach_only_their_user():
    alice, bob = await sync_to_async(make_user)(), await sync_to_async(make_user)()
    alice_socket, _ = await connected(token=await sync_to_async(bearer)(alice))
    bob_socket, _ = await connected(token=await sync_to_async(bearer)(bob))
    anonymous_socket, _ = await connected()
    await sync_to_async(publish)(alice, 1)
    frame = await alice_socket.receive_json_from(timeout=5)
    assert frame == numbered_event(0).to_frame(seq=1)
    assert frame["type"] == "progress.updated" and frame["seq"] == 1 and frame["lesson"] == 0
    assert await bob_socket.receive_nothing(timeout=0.5)
    assert await anonymous_socket.receive_nothing(timeout=0.1)
    for socket in (alice_socket, bob_socket, anonymous_socket):
        await socket.disconnect()


async def test_a_rolled_back_transaction_delivers_nothing():
    user = await sync_to_async(make_user)()
    socket, _ = await connected(token=await sync_to_async(bearer)(user))

    def publish_then_roll_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            publish_to_user(user_id=user.pk, event=numbered_event(0))
            raise RuntimeError("roll back")

    await sync_to_async(publish_then_roll_back)()
    assert await socket.receive_nothing(timeout=0.5)
    assert not await sync_to_async(UserEvent.objects.filter(user=user).exists)()
    await socket.disconnect()


async def test_watch_sends_the_seats_now_and_on_change():
    course = await sync_to_async(make_course)(capacity=3)
    socket, _ = await connected()
    await socket.send_json_to({"type": "watch", "course": course.slug})
    assert await socket.receive_json_from(timeout=5) == {
        "type": "course.seats",
        "course": course.slug,
        "seats_taken": 0,
        "capacity": 3,
    }
    line = {"type": "course.waitlist", "course": course.slug, "waiting": 0}
    assert await socket.receive_json_from(timeout=5) == line
    here = {"type": "course.presence", "course": course.slug, "learners": 0}
    assert await socket.receive_json_from(timeout=5) == here

    def enroll_someone():
        from enrollment import services

        services.enrollment_create(
            course=course,
            student=services.StudentInput(email="w@example.com", name="W"),
            user=None,
            payment_method=None,
        )

    await sync_to_async(enroll_someone)()
    frame = await socket.receive_json_from(timeout=5)
    assert frame == {"type": "course.seats", "course": course.slug, "seats_taken": 1, "capacity": 3}
    await socket.send_json_to({"type": "unwatch", "course": course.slug})
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
    await sync_to_async(lambda: enroll_email(course, "w2@example.com"))()
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


def enroll_email(course, email):
    from enrollment import services

    services.enrollment_create(
        course=course,
        student=services.StudentInput(email=email, name="W"),
        user=None,
        payment_method=None,
    )


async def test_flooding_is_throttled_then_closed(settings):
    settings.WS_FRAMES_PER_SECOND = 1
    settings.WS_FRAME_BURST = 5
    settings.WS_FLOOD_CLOSE_AFTER = 20
    socket, _ = await connected()
    for _ in range(40):
        await socket.send_json_to({"type": "ping"})
    frames = []
    while True:
        output = await socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            assert output["code"] == 4429
            break
        frames.append(json.loads(output["text"]))
    assert frames.count({"type": "pong"}) <= 6
    assert any(frame.get("code") == "throttled" for frame in frames)


async def test_server_heartbeat(settings):
    settings.WS_HEARTBEAT_SECONDS = 1
    socket, _ = await connected()
    assert await socket.receive_json_from(timeout=5) == {"type": "heartbeat"}
    await socket.disconnect()


async def test_logout_closes_the_tokens_sockets():
    from rest_framework.test import APIClient

    user = await sync_to_async(make_user)()
    token = await sync_to_async(bearer)(user)
    socket, _ = await connected(token=token)

    def log_out():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert client.post("/api/auth/logout").status_code == 204

    await sync_to_async(log_out)()
    output = await socket.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4401}
    # And the revoked token cannot open a new socket.
    ok, _ = await communicator(token=token).connect(timeout=10)
    assert not ok


async def test_logout_closes_the_sessions_sockets():
    from django.test import Client

    user = await sync_to_async(make_user)()
    browser = Client()
    await sync_to_async(browser.force_login)(user)
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()
    socket, hello = await connected(headers=[(b"cookie", cookie)])
    assert hello["user"]["id"] == user.pk

    response = await sync_to_async(browser.post)("/api/auth/logout")

    assert response.status_code == 204
    output = await socket.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4401}


@pytest.mark.parametrize("how", ["revoked in the admin", "expired", "user deactivated"])
async def test_sockets_close_when_credentials_end_some_other_way(settings, how):
    from django.utils import timezone

    from portal.accounts.models import AuthToken, User

    settings.WS_HEARTBEAT_SECONDS = 0.2
    settings.WS_RECHECK_EVERY_BEATS = 1
    user = await sync_to_async(make_user)()
    token = await sync_to_async(bearer)(user)
    socket, _ = await connected(token=token)
    assert (await socket.receive_json_from(timeout=5))["type"] == "heartbeat"  # still fine

    def end_credentials():
        if how == "revoked in the admin":
            AuthToken.objects.filter(user=user).update(revoked_at=timezone.now())
        elif how == "expired":
            AuthToken.objects.filter(user=user).update(expires_at=timezone.now())
        else:
            User.objects.filter(pk=user.pk).update(is_active=False)

    await sync_to_async(end_credentials)()
    while True:
        output = await socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            break
    assert output["code"] == 4401
