"""Bad frames over a real socket to a running daphne (PostgreSQL, Redis channel layer): each
is answered with an `error` frame, the socket stays open, and the next valid frame (and
every live event) still gets through. None may close the socket with 1011 or make the
search fail in the database."""

import json

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from portal.events.publish import publish_to_user
from tests.factories import make_course, make_user, token_for
from tests.live import LiveServer
from tests.realtime import sockets
from tests.realtime.frames import assert_server_frame
from tests.realtime.helpers import numbered_event
from tests.realtime.sockets import open_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.live]


@pytest.fixture(scope="module")
def server(django_db_setup):
    live = LiveServer().start()
    yield live
    live.stop()


async def next_frame(socket) -> dict:
    return assert_server_frame(await sockets.next_frame(socket))


async def refused(socket, frame: dict | str, code: str = "invalid_frame") -> dict:
    """Send a bad frame: the answer is an `error` frame with this code, and the socket
    still answers a ping."""
    await socket.send(frame if isinstance(frame, str) else json.dumps(frame))
    answer = await next_frame(socket)
    assert answer["type"] == "error", answer
    assert answer["code"] == code, answer
    await socket.send(json.dumps({"type": "ping"}))
    assert await next_frame(socket) == {"type": "pong"}
    return answer


async def a_search_still_works(socket) -> None:
    await socket.send(json.dumps({"type": "search", "id": 99, "q": "fuzz", "limit": 5}))
    answer = await next_frame(socket)
    assert (answer["type"], answer["id"]) == ("search.results", 99)
    assert [hit["slug"] for hit in answer["hits"]] == ["fuzzing-basics"]


@pytest.fixture
def catalog():
    make_course(title="Fuzzing Basics", slug="fuzzing-basics", level="beginner", price="9.00")


BAD_SEARCHES = [
    {"filters": {"level": ["beginner"]}},
    {"filters": {"level": {"beginner": True}}},
    {"q": "fuzz\x00"},
    {"filters": {"category": "Programming\x00"}},
    {"filters": {"level": "beginner\x00"}},
    {"filters": {"max_price": "1e999999"}},
    {"filters": {"max_price": "100000000"}},
    {"filters": {"max_price": True}},
    {"id": "a\x00"},
]


@pytest.mark.parametrize("fields", BAD_SEARCHES, ids=[json.dumps(b) for b in BAD_SEARCHES])
async def test_a_bad_search_is_an_error_frame_and_the_socket_keeps_working(server, catalog, fields):
    socket, _ = await open_socket(server)

    await refused(socket, {"type": "search", "id": 1, "q": "fuzz", **fields})

    await a_search_still_works(socket)
    await socket.close()


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "search", "id": 1, "q": "fuzz", "filters": {"max_price": 1e999999}}',
        '{"type": "search", "id": 1, "q": "\\ud800"}',
        '{"type": "watch", "course": "\\udfff"}',
        '{"type": "watch", "course": "fuzzing-basics\\u0000"}',
        "[" * 4000 + "]" * 4000,
        '{"type": "ping", "x": ' + "[" * 3000 + "]" * 3000 + "}",
    ],
    ids=["inf", "surrogate", "watch-surrogate", "watch-nul", "nested", "nested-field"],
)
async def test_frames_the_database_or_the_decoder_cannot_take_are_error_frames(
    server, catalog, raw
):
    socket, _ = await open_socket(server)

    await refused(socket, raw)

    await a_search_still_works(socket)
    await socket.close()


async def test_nan_is_not_json(server, catalog):
    socket, _ = await open_socket(server)

    await refused(socket, '{"type": "search", "id": 1, "q": "fuzz", "limit": NaN}', "invalid_json")

    await a_search_still_works(socket)
    await socket.close()


def publish(user, lesson: int) -> None:
    with transaction.atomic():
        publish_to_user(user_id=user.pk, event=numbered_event(lesson))


@pytest.mark.parametrize("after", [2**63, 2**63 - 1, 10**30, 5])
async def test_a_resume_past_the_latest_event_is_refused_and_live_events_still_arrive(
    server, after
):
    user = await database_sync_to_async(make_user)()
    await database_sync_to_async(publish)(user, 1)
    socket, hello = await open_socket(server, await database_sync_to_async(token_for)(user))
    assert hello["seq"] == 1

    answer = await refused(socket, {"type": "resume", "after": after})
    assert "after" in answer["message"]

    await database_sync_to_async(publish)(user, 2)
    event = await next_frame(socket)
    assert (event["type"], event["seq"], event["lesson"]) == ("progress.updated", 2, 2)
    # And a resume from a seq the user had still replays.
    await socket.send(json.dumps({"type": "resume", "after": 0}))
    replayed = [await next_frame(socket) for _ in range(3)]
    assert [(frame["type"], frame["seq"]) for frame in replayed] == [
        ("progress.updated", 1),
        ("progress.updated", 2),
        ("resume.done", 2),
    ]
    await socket.close()
