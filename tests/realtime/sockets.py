"""Real websocket clients (the `websockets` library) on a running server (tests/live.py)."""

import asyncio
import json

from websockets.asyncio.client import ClientConnection, connect

from tests.live import LiveServer


async def open_socket(live: LiveServer, token: str | None = None) -> tuple[ClientConnection, dict]:
    """A socket on `live` (signed in with `token` when given) and its `hello`."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    socket = await connect(live.ws_url, origin=live.url, additional_headers=headers)
    hello = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert hello["type"] == "hello"
    return socket, hello


# State frames a test of something else may receive on the way (a watched course with a
# capacity also reports its line; every watched course, how many learners are there).
SKIPPED = ("heartbeat", "course.waitlist", "course.presence")


async def next_frame(socket, *, skip=SKIPPED, timeout: float = 10) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        if frame["type"] not in skip:
            return frame
