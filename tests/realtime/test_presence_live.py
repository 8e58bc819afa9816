"""`course.presence` across server processes: daphne processes sharing the test Redis
(the channel layer and the presence store), real websocket clients. A learner on one
process is counted for a watcher on another; the count drops when the learner's socket
closes, and when the process holding it is killed (its tabs' leases end unrenewed)."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async as db

from tests.factories import make_course, make_user, token_for
from tests.live import LiveServer
from tests.realtime.sockets import open_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.live]

TTL = "3"  # PRESENCE_TTL_SECONDS of the servers: a killed process's tabs go within 3 s
WAIT = 30  # seconds: a generous deadline; each wait ends on its condition


def presence_server() -> LiveServer:
    return LiveServer(PRESENCE_TTL_SECONDS=TTL)


@pytest.fixture(scope="module")
def servers(django_db_setup):
    started = []
    try:
        for _ in range(2):
            started.append(presence_server().start())
        yield started
    finally:
        for server in started:
            server.stop()


async def watch(socket, slug: str, *, present: bool = False) -> int:
    """Watch; the count the server answers after the course's seats."""
    await socket.send(json.dumps({"type": "watch", "course": slug, "present": present}))
    async with asyncio.timeout(WAIT):
        while (frame := json.loads(await socket.recv()))["type"] != "course.seats":
            pass
        while (frame := json.loads(await socket.recv()))["type"] != "course.presence":
            pass
    assert frame["course"] == slug
    return frame["learners"]


async def told(socket, slug: str, learners: int) -> None:
    """Wait (within the deadline) for `course.presence` with that count."""
    async with asyncio.timeout(WAIT):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == "course.presence" and (frame["course"], frame["learners"]) == (
                slug,
                learners,
            ):
                return


async def test_a_learner_on_one_process_is_counted_for_a_watcher_on_the_other(servers):
    first, second = servers
    course = await db(make_course)()
    ada = await db(make_user)()
    watcher, _ = await open_socket(second)  # an instructor's dashboard, say
    assert await watch(watcher, course.slug) == 0

    learner, _ = await open_socket(first, await db(token_for)(ada))
    assert await watch(learner, course.slug, present=True) == 1
    await told(watcher, course.slug, 1)

    # A second tab of the same learner, on the other process: still one learner.
    again, _ = await open_socket(second, await db(token_for)(ada))
    assert await watch(again, course.slug, present=True) == 1
    await again.close()

    await learner.close()
    await told(watcher, course.slug, 0)
    await watcher.close()


async def test_a_killed_process_s_learners_drop_out_once_their_leases_end(servers):
    _, survivor = servers
    course = await db(make_course)()
    ada, bo = await db(make_user)(), await db(make_user)()
    victim = presence_server().start()
    try:
        watcher, _ = await open_socket(survivor)
        assert await watch(watcher, course.slug) == 0
        staying, _ = await open_socket(survivor, await db(token_for)(bo))
        assert await watch(staying, course.slug, present=True) == 1
        await told(watcher, course.slug, 1)
        doomed, _ = await open_socket(victim, await db(token_for)(ada))
        assert await watch(doomed, course.slug, present=True) == 2
        await told(watcher, course.slug, 2)

        # SIGKILL: no close reaches anyone, nothing is cleaned up on the way down.
        assert victim.process is not None
        victim.process.kill()
        victim.process.wait(timeout=10)
        victim.process = None

        # The survivor's renewal finds Ada's lease ended; Bo's, renewed, stays.
        await told(watcher, course.slug, 1)
        assert await watch(watcher, course.slug) == 1
        for socket in (watcher, staying):
            await socket.close()
    finally:
        victim.stop()
