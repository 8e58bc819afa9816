"""The channel layer's pub/sub connection serves one coroutine at a time
(realtime/layers.py, SerialShardConnection): subscribing never overlaps a read of it, on a
real Redis."""

import asyncio

import pytest
from django.conf import settings
from redis.asyncio.client import PubSub

from realtime.layers import ResilientPubSubChannelLayer

pytestmark = pytest.mark.asyncio


async def test_subscribing_never_overlaps_a_read_of_the_pubsub_connection(monkeypatch):
    busy: list[str] = []  # what is using the pub/sub connection right now
    overlaps: list[tuple[str, ...]] = []

    def watched(name, method):
        async def wrapper(self, *args, **kwargs):
            if busy:
                overlaps.append((*busy, name))
            busy.append(name)
            try:
                return await method(self, *args, **kwargs)
            finally:
                busy.remove(name)

        return wrapper

    monkeypatch.setattr(PubSub, "get_message", watched("read", PubSub.get_message))
    monkeypatch.setattr(PubSub, "execute_command", watched("command", PubSub.execute_command))
    layer = ResilientPubSubChannelLayer(hosts=[settings.REDIS_URL], prefix="test-serial")
    channels = [await layer.new_channel() for _ in range(5)]
    try:
        # The receive loop is reading (it polls without end); forty group joins at once.
        while "read" not in busy:
            await asyncio.sleep(0.01)
        await asyncio.gather(*(layer.group_add(f"g{n}", channels[n % 5]) for n in range(40)))
        await layer.group_send("g7", {"type": "probe"})
        received = await asyncio.wait_for(layer.receive(channels[2]), timeout=30)
    finally:
        await layer.flush()

    assert received == {"type": "probe"}
    assert overlaps == []
