"""The channel layer, made to let sockets connect while Redis is away.

Channels gives every consumer a channel of its own (`new_channel`) before the consumer
runs, and the pub/sub layer subscribes it in Redis there: with Redis down, the handshake
failed with a 500. The portal sends nothing to a consumer's own channel (every frame goes
to a group), so a failed subscription is harmless: the channel's local queue exists, the
socket opens, and the consumer joins its groups again on its heartbeat (then `resync`).

Each process's pub/sub connection is also used by one coroutine at a time
(`SerialShardConnection`): upstream, the receive loop reads it while `group_add`
subscribes on it, and after a Redis restart both reconnected it at once; one read the
other's handshake answer, the other waited forever holding the shard's lock, and the
process received no group message again ("readuntil() called while another coroutine is
already waiting for incoming data", seen in tests/realtime/test_layer_outage.py).
"""

import asyncio
import os
import uuid
import weakref
from collections.abc import Sequence
from typing import Any

import redis.exceptions
import structlog
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisSingleShardConnection

log = structlog.get_logger(__name__)

# The most PUBLISH commands sent in one pipelined round trip.
PIPELINE_SIZE = 500

# How long one read of the pub/sub connection waits for a message (upstream: 0.1 s); a
# subscribe waits at most this long for the connection.
RECEIVE_POLL_SECONDS = 0.05


class SerialShardConnection(RedisSingleShardConnection):
    """A shard whose pub/sub connection serves one coroutine at a time: the receive loop
    holds `_pubsub_lock` while it reads, and (un)subscribing takes it too. Publishing goes
    through the pool's other connections and does not wait for it."""

    def __init__(self, host, channel_layer) -> None:
        super().__init__(host, channel_layer)
        self._pubsub_lock = asyncio.Lock()

    async def subscribe(self, channel) -> None:
        async with self._pubsub_lock:
            await super().subscribe(channel)

    async def unsubscribe(self, channel) -> None:
        async with self._pubsub_lock:
            await super().unsubscribe(channel)

    async def publish_many(self, publishes: Sequence[tuple[str, bytes]]) -> None:
        """PUBLISH each (channel, data), in order, pipelined: a round trip per
        PIPELINE_SIZE messages rather than per message."""
        async with self._lock:
            self._ensure_redis()
            for start in range(0, len(publishes), PIPELINE_SIZE):
                async with self._redis.pipeline(transaction=False) as pipe:
                    for channel, data in publishes[start : start + PIPELINE_SIZE]:
                        pipe.publish(channel, data)
                    await pipe.execute()

    async def _do_receiving(self) -> None:
        # Upstream's loop, with each read under the lock (the lock is fair: a waiting
        # subscribe goes before the next read).
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    async with self._pubsub_lock:
                        message = await self._pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=RECEIVE_POLL_SECONDS
                        )
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except BaseException:
                log.warning("ws.layer_receive_failed", exc_info=True)
                await asyncio.sleep(1)


# Every layer of this process, to forget their per-loop layers in a forked child.
_instances: "weakref.WeakSet[ResilientPubSubChannelLayer]" = weakref.WeakSet()


class ResilientPubSubChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _instances.add(self)

    def _get_layer(self):
        # The per-loop layer upstream makes, its shards replaced (before first use) by
        # SerialShardConnection. Called for every message each consumer receives: the
        # replacement is checked once per layer.
        layer = super()._get_layer()
        if not getattr(layer, "serial_shards", False):
            layer._shards = [SerialShardConnection(shard.host, layer) for shard in layer._shards]
            layer.serial_shards = True
        return layer

    async def group_send_many(self, sends: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """`group_send` of each (group, message), in order, pipelined per shard
        (portal.events.publish.publish_to_users tells many users at once)."""
        layer = self._get_layer()
        by_shard: dict[SerialShardConnection, list[tuple[str, bytes]]] = {}
        for group, message in sends:
            channel = layer._get_group_channel_name(group)
            by_shard.setdefault(layer._get_shard(channel), []).append(
                (channel, self.serialize(message))
            )
        for shard, publishes in by_shard.items():
            await shard.publish_many(publishes)

    async def new_channel(self, prefix: str = "specific.") -> str:
        # The upstream method, with the subscription's failure tolerated. It reaches into
        # the per-loop layer (channels-redis 4, pinned in uv.lock; tested in
        # tests/realtime/test_layer_outage.py).
        layer = self._get_layer()
        channel = f"{layer.prefix}{prefix}{uuid.uuid4().hex}"
        try:
            await layer._subscribe_to_channel(channel)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
            log.warning("ws.channel_subscribe_failed", channel=channel)
        return channel


def _forget_loops_after_fork() -> None:
    # A forked child (a Celery prefork worker) inherits the parent's per-loop layers: their
    # loops and Redis sockets are the parent's. Forgotten, not closed (closing would talk
    # on the parent's connections); the child makes its own on first use.
    for layer in list(_instances):
        layer._layers.clear()


os.register_at_fork(after_in_child=_forget_loops_after_fork)
