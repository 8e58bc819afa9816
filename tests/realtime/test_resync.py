"""`resync` through the real ASGI stack: a socket that may have missed live events is told
so, and `resume` fills in.

A publisher whose channel layer is down (helpers.publish_undelivered) loses an event's
delivery for real; the consumer notices on the next live event (a gap in the seqs) or on
its heartbeats (the log is ahead and stays ahead)."""

import asyncio

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portal.events.publish import publish_to_user
from realtime import selectors
from realtime.delivery import LatestSeqs
from tests.factories import make_user
from tests.realtime.frames import assert_server_frame
from tests.realtime.helpers import bearer, connected, numbered_event, publish_undelivered

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def published(user, count: int = 1) -> None:
    with transaction.atomic():
        for index in range(count):
            publish_to_user(user_id=user.pk, event=numbered_event(index))


async def frames_until(socket, frame_type: str, *, limit: int = 50) -> list[dict]:
    frames = []
    while not frames or frames[-1]["type"] != frame_type:
        frames.append(await socket.receive_json_from(timeout=10))
        assert len(frames) <= limit, frames
    return frames


async def signed_in():
    user = await sync_to_async(make_user)()
    socket, hello = await connected(token=await sync_to_async(bearer)(user))
    return user, socket, hello


async def resume(socket, after: int) -> list[int]:
    await socket.send_json_to({"type": "resume", "after": after})
    frames = await frames_until(socket, "resume.done")
    return [frame["seq"] for frame in frames if frame["type"] not in {"heartbeat", "resume.done"}]


async def test_a_live_event_after_a_lost_one_brings_resync_then_resume_fills_the_gap():
    user, socket, hello = await signed_in()
    assert hello["seq"] == 0
    await sync_to_async(publish_undelivered)(user, 2)  # seq 1, 2: committed, never delivered
    await sync_to_async(published)(user)  # seq 3: delivered

    resync = assert_server_frame(await socket.receive_json_from(timeout=10))
    assert resync == {"type": "resync"}
    event = await socket.receive_json_from(timeout=10)
    assert (event["type"], event["seq"]) == ("progress.updated", 3)
    assert await resume(socket, after=0) == [1, 2, 3]
    await sync_to_async(published)(user)  # next in line: no resync
    assert (await socket.receive_json_from(timeout=10))["seq"] == 4
    await socket.disconnect()


async def test_heartbeats_resync_once_when_the_log_stays_ahead(settings):
    settings.WS_HEARTBEAT_SECONDS = 0.2
    user, socket, hello = await signed_in()
    await sync_to_async(publish_undelivered)(user, 3)

    frames = await frames_until(socket, "resync")
    # Seen in the log at one beat and still missing at the next: at least two beats.
    assert sum(frame["type"] == "heartbeat" for frame in frames) >= 2
    # Once for this gap, however long the client takes to answer.
    later = [await socket.receive_json_from(timeout=10) for _ in range(6)]
    assert [frame["type"] for frame in later] == ["heartbeat"] * 6
    assert await resume(socket, after=hello["seq"]) == [1, 2, 3]

    await sync_to_async(publish_undelivered)(user)  # a new gap: a new resync
    await frames_until(socket, "resync")
    assert await resume(socket, after=3) == [4]
    await socket.disconnect()


async def test_heartbeats_do_not_resync_a_socket_that_got_everything(settings):
    settings.WS_HEARTBEAT_SECONDS = 0.2
    user, socket, _ = await signed_in()
    await sync_to_async(published)(user, 2)
    frames = [await socket.receive_json_from(timeout=10) for _ in range(8)]
    assert [frame.get("seq") for frame in frames if frame["type"] != "heartbeat"] == [1, 2]
    assert not [frame for frame in frames if frame["type"] == "resync"]
    await socket.disconnect()


async def test_latest_seqs_answers_every_socket_of_a_window_with_one_query():
    users = [await sync_to_async(make_user)() for _ in range(3)]
    for count, user in zip((1, 4, 0), users, strict=True):
        if count:
            await sync_to_async(published)(user, count)
    reads = []

    @sync_to_async
    def read(user_ids: list[int]) -> dict[int, int]:
        with CaptureQueriesContext(connection) as queries:
            answer = selectors.latest_seqs(user_ids=user_ids)
        reads.append(len(queries))
        return answer

    reader = LatestSeqs(read, window=0.05)
    asked = [users[0], users[1], users[1], users[2], users[0]]
    answers = await asyncio.gather(*(reader.get(user.pk) for user in asked))
    assert answers == [1, 4, 4, 0, 1]
    assert reads == [1]
    assert await reader.get(users[1].pk) == 4  # the next window reads again
    assert reads == [1, 1]
