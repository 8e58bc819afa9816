"""Delivery over real sockets: a running daphne server, a real websocket client, real
HTTP requests; and two server processes sharing Redis (scale-out)."""

import asyncio
import json
import urllib.error
import urllib.request

import pytest
import websockets
from channels.db import database_sync_to_async
from django.db import transaction
from websockets.asyncio.client import connect

from portal.events.publish import publish_to_user
from tests.factories import make_course, make_instructor, make_user, token_for
from tests.live import LiveServer
from tests.realtime.helpers import numbered_event
from tests.realtime.sockets import next_frame, open_socket

# Daphne subprocesses read what the test commits.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.live]


@pytest.fixture(scope="module")
def server(django_db_setup):
    # One server for the module: each test's rows are flushed, the process stays.
    live = LiveServer().start()
    yield live
    live.stop()


def http_post(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def nothing_arrives(socket, seconds: float = 1.0) -> bool:
    try:
        frame = json.loads(await asyncio.wait_for(socket.recv(), seconds))
    except TimeoutError:
        return True
    return frame["type"] == "heartbeat"


async def test_student_sees_pending_then_active_and_instructors_get_created(server):
    ivy, oscar = (
        await database_sync_to_async(make_instructor)(),
        await database_sync_to_async(make_instructor)(),
    )
    course = await database_sync_to_async(make_course)(instructor=ivy, price="49.00", capacity=5)
    await database_sync_to_async(lambda: course.course_instructors.create(user=oscar, position=1))()
    student, stranger = (
        await database_sync_to_async(make_user)(),
        await database_sync_to_async(make_user)(),
    )
    tokens = {
        name: await database_sync_to_async(token_for)(user)
        for name, user in {
            "student": student,
            "ivy": ivy,
            "oscar": oscar,
            "stranger": stranger,
        }.items()
    }
    sockets = {name: (await open_socket(server, token))[0] for name, token in tokens.items()}
    anonymous, _ = await open_socket(server)

    status, body = await asyncio.to_thread(
        http_post,
        server.url + "/api/enrollments",
        {"course": course.slug, "payment_method": "pm_card_visa"},
        tokens["student"],
    )
    assert status == 201, body

    pending = await next_frame(sockets["student"])
    active = await next_frame(sockets["student"])
    assert (pending["type"], pending["enrollment"]["status"]) == ("enrollment.status", "pending")
    assert (active["type"], active["enrollment"]["status"]) == ("enrollment.status", "active")
    assert active["seq"] == pending["seq"] + 1
    assert active["enrollment"]["id"] == body["id"]
    for name in ("ivy", "oscar"):
        created = await next_frame(sockets[name])
        assert created["type"] == "enrollment.created"
        assert created["enrollment"]["id"] == body["id"]
        assert created["course"] == {
            "id": course.id,
            "slug": course.slug,
            "title": course.title,
            "seats_taken": 1,
            "capacity": 5,
        }
    assert await nothing_arrives(sockets["stranger"])
    assert await nothing_arrives(anonymous, 0.3)
    for socket in [*sockets.values(), anonymous]:
        await socket.close()


async def test_a_foreign_origin_is_refused(server):
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await connect(server.ws_url, origin="http://evil.example.com")
    assert refused.value.response.status_code == 403


async def test_a_watcher_sees_seats_change(server):
    course = await database_sync_to_async(make_course)(capacity=2)
    watcher, _ = await open_socket(server)
    await watcher.send(json.dumps({"type": "watch", "course": course.slug}))
    assert (await next_frame(watcher))["seats_taken"] == 0
    status, _ = await asyncio.to_thread(
        http_post,
        server.url + "/api/enrollments",
        {"course": course.slug, "student": {"email": "seat@example.com", "name": "S"}},
    )
    assert status == 201
    frame = await next_frame(watcher)
    assert frame == {"type": "course.seats", "course": course.slug, "seats_taken": 1, "capacity": 2}
    await watcher.close()


def publish_many(user, count: int) -> None:
    with transaction.atomic():
        for index in range(count):
            publish_to_user(user_id=user.pk, event=numbered_event(index))


async def test_a_client_that_misses_a_thousand_events_gets_them_all_on_resume(server):
    user = await database_sync_to_async(make_user)()
    token = await database_sync_to_async(token_for)(user)
    socket, hello = await open_socket(server, token)
    last_seen = hello["seq"]
    await socket.close()

    await database_sync_to_async(publish_many)(user, 1000)

    socket, hello = await open_socket(server, token)
    assert hello["seq"] == last_seen + 1000
    await socket.send(json.dumps({"type": "resume", "after": last_seen}))
    received = []
    while True:
        frame = await next_frame(socket)
        if frame["type"] == "resume.done":
            break
        received.append(frame)
    assert [frame["seq"] for frame in received] == list(range(last_seen + 1, last_seen + 1001))
    assert [frame["lesson"] for frame in received] == list(range(1000))
    assert frame["seq"] == last_seen + 1000
    await socket.close()


async def test_a_rolled_back_transaction_delivers_nothing(server):
    user = await database_sync_to_async(make_user)()
    socket, _ = await open_socket(server, await database_sync_to_async(token_for)(user))

    def roll_back():
        try:
            with transaction.atomic():
                publish_to_user(user_id=user.pk, event=numbered_event(0))
                raise RuntimeError
        except RuntimeError:
            pass

    await database_sync_to_async(roll_back)()
    assert await nothing_arrives(socket, 1.5)
    await socket.close()


async def test_scale_out_an_event_caused_on_one_server_reaches_a_socket_on_the_other():
    first, second = LiveServer().start(), LiveServer().start()
    try:
        user = await database_sync_to_async(make_user)()
        token = await database_sync_to_async(token_for)(user)
        course = await database_sync_to_async(make_course)(capacity=3)
        socket, _ = await open_socket(second, token)
        watcher, _ = await open_socket(second)
        await watcher.send(json.dumps({"type": "watch", "course": course.slug}))
        assert (await next_frame(watcher))["seats_taken"] == 0

        status, _ = await asyncio.to_thread(
            http_post, first.url + "/api/enrollments", {"course": course.slug}, token
        )
        assert status == 201

        statuses = [(await next_frame(socket))["enrollment"]["status"] for _ in range(2)]
        assert statuses == ["pending", "active"]
        assert (await next_frame(watcher))["seats_taken"] == 1
        await socket.close()
        await watcher.close()
    finally:
        first.stop()
        second.stop()
