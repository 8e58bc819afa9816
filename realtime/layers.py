"""The channel layer, made to let sockets connect while Redis is away.

Channels gives every consumer a channel of its own (`new_channel`) before the consumer
runs, and the pub/sub layer subscribes it in Redis there: with Redis down, the handshake
failed with a 500. The portal sends nothing to a consumer's own channel (every frame goes
to a group), so a failed subscription is harmless: the channel's local queue exists, the
socket opens, and the consumer joins its groups again on its heartbeat (then `resync`).
"""

import uuid

import redis.exceptions
import structlog
from channels_redis.pubsub import RedisPubSubChannelLayer

log = structlog.get_logger(__name__)


class ResilientPubSubChannelLayer(RedisPubSubChannelLayer):
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
