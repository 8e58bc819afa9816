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
import uuid

import redis.exceptions
import structlog
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisSingleShardConnection

log = structlog.get_logger(__name__)

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


class ResilientPubSubChannelLayer(RedisPubSubChannelLayer):
    def _get_layer(self):
        # The per-loop layer upstream makes, its shards replaced (before first use) by
        # SerialShardConnection.
        layer = super()._get_layer()
        if not all(isinstance(shard, SerialShardConnection) for shard in layer._shards):
            layer._shards = [SerialShardConnection(shard.host, layer) for shard in layer._shards]
        return layer

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
