"""Sending from sync code with no event loop (a Celery worker, a command, a thread of
one's own) on one loop per thread (portal.events.thread_loop), on the real Redis layer: the
loop and its layer's connection are reused across sends, made again when closed or in a
forked child, and closed once their thread has ended; a thread that runs sync code for a
server's loop sends on that loop, as before."""

import os
import threading
import time

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from portal.events import thread_loop
from portal.events.publish import group_send_raw
from realtime.layers import ResilientPubSubChannelLayer


class Listener:
    """A plain Redis subscriber to one group's pub/sub channel."""

    def __init__(self, group: str) -> None:
        layer = get_channel_layer()
        assert isinstance(layer, ResilientPubSubChannelLayer)
        self.layer = layer
        self.client = redis.Redis.from_url(settings.REDIS_URL)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(
            f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}__group__{group}"
        )

    def received(self, count: int, timeout: float = 10) -> list[dict]:
        messages: list[dict] = []
        deadline = time.monotonic() + timeout
        while len(messages) < count and time.monotonic() < deadline:
            message = self.pubsub.get_message(timeout=0.2)
            if message is not None:
                messages.append(self.layer.deserialize(message["data"]))
        return messages

    def close(self) -> None:
        self.pubsub.close()
        self.client.close()


@pytest.fixture
def listener(request):
    found = Listener(f"loop-test.{request.node.name[:40]}")
    yield found
    found.close()


def group_of(listener: Listener) -> str:
    return (
        listener.pubsub.channels
        and next(iter(listener.pubsub.channels)).decode().split("__group__", 1)[1]
    )


def in_thread(function) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            function()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if errors:
        raise errors[0]


def loop_layer(loop):
    """The channel layer's per-loop layer for `loop` (channels-redis keeps one per loop)."""
    return get_channel_layer()._layers.get(loop)


def test_sends_from_one_thread_reuse_its_loop_and_the_layers_connection(listener):
    group = group_of(listener)
    seen: list[tuple] = []

    def send_three() -> None:
        for n in range(3):
            group_send_raw(group, {"type": "probe", "n": n})
            loop = thread_loop.thread_loop()
            seen.append((loop, loop_layer(loop), loop_layer(loop)._shards[0]._redis))

    in_thread(send_three)

    assert [message["n"] for message in listener.received(3)] == [0, 1, 2]
    assert len({id(loop) for loop, _, _ in seen}) == 1
    assert len({id(layer) for _, layer, _ in seen}) == 1
    assert len({id(client) for _, _, client in seen}) == 1


def test_a_closed_loop_is_made_again_and_an_ended_threads_loop_is_closed(listener):
    group = group_of(listener)
    loops = []

    def send(n: int) -> None:
        group_send_raw(group, {"type": "probe", "n": n})
        loops.append(thread_loop.thread_loop())

    def send_close_send() -> None:
        send(0)
        thread_loop.thread_loop().close()  # closed by someone else: made again
        send(1)

    in_thread(send_close_send)
    in_thread(lambda: send(2))  # a new thread: the ended thread's loop is closed now

    assert [message["n"] for message in listener.received(3)] == [0, 1, 2]
    first, again, other = loops
    assert first is not again and first.is_closed()
    assert again.is_closed()  # its thread ended before the third send
    assert not other.is_closed()
    # Closing ran channels-redis' hook: the per-loop layers of closed loops are gone.
    assert loop_layer(first) is None and loop_layer(again) is None
    thread_loop.close_all()
    assert other.is_closed() and loop_layer(other) is None


def test_a_forked_child_sends_on_a_loop_and_connection_of_its_own(listener):
    group = group_of(listener)
    group_send_raw(group, {"type": "probe", "from": "parent"})
    parent_loop = thread_loop.thread_loop()
    parent_client = loop_layer(parent_loop)._shards[0]._redis

    child = os.fork()
    if child == 0:  # the child: report by exit code only
        code = 1
        try:
            inherited = not get_channel_layer()._layers  # the parent's layers forgotten
            group_send_raw(group, {"type": "probe", "from": "child"})
            loop = thread_loop.thread_loop()
            own = (
                loop is not parent_loop and loop_layer(loop)._shards[0]._redis is not parent_client
            )
            code = 0 if inherited and own else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0

    # The parent's loop and connection still work after the child used (and left) its own.
    group_send_raw(group, {"type": "probe", "from": "parent again"})
    assert thread_loop.thread_loop() is parent_loop
    assert loop_layer(parent_loop)._shards[0]._redis is parent_client
    assert [message["from"] for message in listener.received(3)] == [
        "parent",
        "child",
        "parent again",
    ]
    thread_loop.close_all()


@pytest.mark.asyncio
async def test_a_thread_running_sync_code_for_a_server_loop_sends_on_that_loop(listener):
    group = group_of(listener)

    def send() -> bool:
        group_send_raw(group, {"type": "probe", "n": 0})
        return threading.current_thread() in thread_loop._loops

    made_a_loop = await sync_to_async(send)()

    assert not made_a_loop
    assert [message["n"] for message in listener.received(1)] == [0]
