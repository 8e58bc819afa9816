"""Connecting WebsocketCommunicators to the real ASGI application (origin check, session
and bearer middleware included) on the Redis channel layer."""

from unittest import mock

from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.db import transaction
from django.test import Client

from portal.asgi import application
from portal.events import publish
from portal.events.types import ProgressUpdated
from tests.factories import token_for
from tests.live import free_port

ORIGIN = b"http://testserver"


def communicator(
    *,
    token: str | None = None,
    session_of=None,
    origin: bytes | None = ORIGIN,
    headers: list | None = None,
) -> WebsocketCommunicator:
    all_headers = list(headers or [])
    if origin is not None:
        all_headers.append((b"origin", origin))
    all_headers.append((b"host", b"testserver"))
    if token is not None:
        all_headers.append((b"authorization", f"Bearer {token}".encode()))
    if session_of is not None:
        client = Client()
        client.force_login(session_of)
        all_headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, "/ws/", headers=all_headers)


async def connected(**kwargs) -> tuple[WebsocketCommunicator, dict]:
    socket = await sync_to_async(communicator)(**kwargs)  # a session login touches the DB
    ok, _ = await socket.connect(timeout=10)
    assert ok
    hello = await socket.receive_json_from(timeout=10)
    assert hello["type"] == "hello"
    return socket, hello


def bearer(user) -> str:
    return token_for(user)


def numbered_event(n: int) -> ProgressUpdated:
    """A `progress.updated` whose lesson is `n`: events a test can tell apart by number."""
    return ProgressUpdated(
        enrollment=1,
        lesson=n,
        completed=False,
        position_seconds=0,
        percent=0.0,
        progress={"completed_lessons": 0, "total_lessons": 1, "percent": 0.0},
    )


def publish_undelivered(user, count: int = 1) -> None:
    """`count` events committed for the user whose delivery fails for real, as while Redis
    is down: the publisher's channel layer is a Redis on a port nobody listens on."""
    unreachable = RedisPubSubChannelLayer(
        hosts=[{"address": f"redis://127.0.0.1:{free_port()}/0", "socket_connect_timeout": 1}]
    )
    with (
        mock.patch.object(publish, "get_channel_layer", return_value=unreachable),
        transaction.atomic(),
    ):
        for index in range(count):
            publish.publish_to_user(user_id=user.pk, event=numbered_event(index))
