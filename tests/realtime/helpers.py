"""Connecting WebsocketCommunicators to the real ASGI application (origin check, session
and bearer middleware included) on the Redis channel layer."""

from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from portal.asgi import application
from portal.events.types import ProgressUpdated
from tests.factories import token_for

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
