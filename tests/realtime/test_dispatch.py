"""realtime.dispatch.dispatch_each: a consumer's two sources, handled one message at a
time in arrival order; a source's error and the consumer's stop end it and cancel both
feeders (no task left reading a channel nobody handles)."""

import asyncio

import pytest
from channels.exceptions import StopConsumer

from realtime.dispatch import dispatch_each

pytestmark = pytest.mark.asyncio


def source_of(queue: asyncio.Queue):
    async def receive():
        item = await queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    return receive


def cancellable_source(queue: asyncio.Queue, cancelled: asyncio.Event):
    """A source that notes being cancelled while it waits."""

    async def receive():
        try:
            return await queue.get()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    return receive


async def nothing(message) -> None:
    pass


async def test_messages_from_both_sources_are_handled_one_at_a_time_in_order():
    client, layer = asyncio.Queue(), asyncio.Queue()
    handled: list[str] = []
    busy = False

    async def dispatch(message):
        nonlocal busy
        assert not busy, "two messages handled at once"
        busy = True
        await asyncio.sleep(0)  # a handler that awaits: the next one must wait for it
        await asyncio.sleep(0)
        handled.append(message["n"])
        busy = False
        if message["n"] == "stop":
            raise StopConsumer

    for n in ("c1", "c2"):
        client.put_nowait({"n": n})
    for n in ("l1", "l2", "l3"):
        layer.put_nowait({"n": n})
    task = asyncio.create_task(dispatch_each([source_of(client), source_of(layer)], dispatch))
    await asyncio.sleep(0.05)
    client.put_nowait({"n": "stop"})
    with pytest.raises(StopConsumer):
        await task
    assert sorted(handled[:5]) == ["c1", "c2", "l1", "l2", "l3"]
    # Each source's own order is kept.
    assert [n for n in handled if n.startswith("c")] == ["c1", "c2"]
    assert [n for n in handled if n.startswith("l")] == ["l1", "l2", "l3"]
    assert handled[-1] == "stop"


async def test_a_failing_source_raises_and_the_other_feeder_is_cancelled():
    client, layer = asyncio.Queue(), asyncio.Queue()
    cancelled = asyncio.Event()

    layer_receive = cancellable_source(layer, cancelled)
    client.put_nowait({"n": "c1"})
    client.put_nowait(ConnectionError("the layer went away"))
    with pytest.raises(ConnectionError, match="went away"):
        await dispatch_each([source_of(client), layer_receive], nothing)
    assert cancelled.is_set()


async def test_cancelling_the_consumer_cancels_its_feeders():
    layer = asyncio.Queue()
    cancelled = asyncio.Event()

    layer_receive = cancellable_source(layer, cancelled)
    task = asyncio.create_task(dispatch_each([layer_receive], nothing))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled.is_set()
