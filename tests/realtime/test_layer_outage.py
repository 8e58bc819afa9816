"""Redis goes away under open sockets: a daphne server on a Redis of the test's own, which
the test stops while events commit (their delivery fails) and starts again on the same
port. Every socket that may have missed something gets `resync`; `resume` then brings
every missed event, in order, once."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from websockets.asyncio.client import connect

from enrollment import services
from portal.events.publish import latest_seq
from tests.factories import make_course, make_user, token_for
from tests.live import LiveServer
from tests.redis_server import PrivateRedis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.live]

WAIT = 30  # seconds: generous, every wait ends on a condition


@pytest.fixture
def private_redis():
    server = PrivateRedis().start()
    yield server
    server.stop()


@pytest.fixture
def layer_on_private_redis(private_redis, settings):
    """This process publishes through the same Redis as the server under test (and with
    the same channel prefix, which the server reads from the environment)."""
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": private_redis.url, "socket_connect_timeout": 1}],
                "prefix": prefix,
            },
        }
    }
    return private_redis


@pytest.fixture
def server(layer_on_private_redis):
    live = LiveServer(REDIS_URL=layer_on_private_redis.url, WS_HEARTBEAT_SECONDS="1").start()
    yield live
    live.stop()


class Client:
    """A socket that reads frames as a client does: it keeps the last seq it applied."""

    def __init__(self, socket, hello: dict) -> None:
        self.socket = socket
        self.last = hello["seq"]
        self.seqs: list[int] = []  # every event seq received, in order
        self.resyncs = 0

    @classmethod
    async def open(cls, live: LiveServer, token: str | None = None) -> "Client":
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        socket = await connect(live.ws_url, origin=live.url, additional_headers=headers)
        hello = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
        assert hello["type"] == "hello"
        return cls(socket, hello)

    async def next(self) -> dict:
        """The next frame that is not a heartbeat; events are recorded."""
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), WAIT))
            if frame["type"] == "heartbeat":
                continue
            if frame["type"] == "resync":
                self.resyncs += 1
            if "seq" in frame and frame["type"] not in {"resume.done", "resume.gap"}:
                self.seqs.append(frame["seq"])
            return frame

    async def until(self, frame_type: str) -> dict:
        async with asyncio.timeout(WAIT):  # heartbeats keep coming: bound the whole wait
            while (frame := await self.next())["type"] != frame_type:
                pass
        return frame

    async def resume(self) -> list[int]:
        """Send resume; the seqs it brings, up to resume.done."""
        await self.socket.send(json.dumps({"type": "resume", "after": self.last}))
        replayed = []
        while (frame := await self.next())["type"] != "resume.done":
            assert frame["type"] not in {"resume.gap", "error"}, frame
            if "seq" in frame:
                replayed.append(frame["seq"])
        if replayed:
            self.last = replayed[-1]
        return replayed

    async def quiet_for_beats(self, beats: int) -> list[dict]:
        """Every frame but heartbeats until `beats` heartbeats have passed."""
        others = []
        while beats:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), WAIT))
            if frame["type"] == "heartbeat":
                beats -= 1
            else:
                others.append(frame)
        return others


def enroll(user, course):
    return services.enrollment_create(course=course, student=None, user=user, payment_method=None)


def events_while_redis_is_down(user, course) -> int:
    """One transaction: an enrollment (pending, active), progress on every lesson and the
    completion that follows the last (enrollment.status and enrollment.completed)."""
    with transaction.atomic():
        enrollment = enroll(user, course)
        for lesson in [
            lesson for module in course.modules.all() for lesson in module.lessons.all()
        ]:
            services.progress_record(
                enrollment=enrollment, lesson_id=lesson.id, completed=True, position_seconds=5
            )
    return latest_seq(user.pk)


async def test_sockets_that_missed_events_while_redis_was_down_resync_and_resume(
    server, private_redis
):
    db = database_sync_to_async
    users = [await db(make_user)() for _ in range(3)]
    tokens = [await db(token_for)(user) for user in users]
    warmup = await db(make_course)(capacity=10, modules=1, lessons_per_module=1)
    missed_course = await db(make_course)(capacity=10, modules=2, lessons_per_module=3)
    watched = await db(make_course)(capacity=10)
    # Two tabs for the first user, one for each of the others; an anonymous watcher.
    clients = {
        (0, "a"): await Client.open(server, tokens[0]),
        (0, "b"): await Client.open(server, tokens[0]),
        (1, "a"): await Client.open(server, tokens[1]),
        (2, "a"): await Client.open(server, tokens[2]),
    }
    watcher = await Client.open(server)

    # Delivery works through the private Redis: two live events each.
    for user in users:
        await db(enroll)(user, warmup)
    for client in clients.values():
        frames = [await client.until("enrollment.status") for _ in range(2)]
        assert [frame["seq"] for frame in frames] == [1, 2]
        client.last = 2
        client.resyncs = 0  # a delivery slower than a beat may have asked one: harmless

    private_redis.stop()
    latest = [await db(events_while_redis_is_down)(user, missed_course) for user in users]
    # 2 + (pending, active) + 6 lessons + completion (status, completed): committed all the same
    assert latest == [12, 12, 12]
    # Watching while the layer is down: answered from the database, the socket stays open.
    await watcher.socket.send(json.dumps({"type": "watch", "course": watched.slug}))
    seats = await watcher.until("course.seats")
    assert seats["seats_taken"] == 0
    # A tab opened while Redis is down connects all the same (it was a 500 handshake),
    # its hello saying where the log stands; the live event after the outage reaches it.
    late_tab = await Client.open(server, tokens[1])
    assert late_tab.last == latest[1]
    # Down for a few heartbeats: sockets stay open and nothing tells the watcher to resync
    # while its group cannot be joined.
    assert not [frame for frame in await watcher.quiet_for_beats(3) if frame["type"] == "resync"]
    private_redis.start()

    for (index, _), client in clients.items():
        await client.until("resync")
        replayed = await client.resume()
        assert replayed == list(range(3, latest[index] + 1))  # in order, no gap, no duplicate
        assert client.seqs == [1, 2, *replayed]  # nothing else arrived, live or replayed
        assert client.resyncs == 1
    # The watcher joins its course's group once Redis is back, then resyncs (its client
    # watches again, which answers the seats now).
    await watcher.until("resync")

    # Live delivery is back for everyone: a new event arrives live, next in line.
    for user in users:
        await db(enroll)(user, watched)
    for (index, _), client in clients.items():
        frame = await client.until("enrollment.status")
        assert (frame["seq"], frame["enrollment"]["status"]) == (latest[index] + 1, "pending")
    frame = await late_tab.until("enrollment.status")
    assert frame["seq"] == latest[1] + 1
    assert (await watcher.until("course.seats"))["seats_taken"] >= 1
    # And the gap was answered once: no further resync over the next beats.
    for client in clients.values():
        assert all(frame["type"] != "resync" for frame in await client.quiet_for_beats(3))
    for client in [*clients.values(), watcher, late_tab]:
        await client.socket.close()
