"""The websocket handshake's guards against running daphne servers with real websockets:
the Origin must match scheme, host and port; open sockets are limited per client address,
counted across disconnects and across server processes (through Redis)."""

import asyncio
import json
import time

import pytest
import websockets
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect

from realtime.handshake import CLOSE_TOO_MANY_SOCKETS, RedisSocketCount, socket_count
from tests.live import LiveServer
from tests.realtime.helpers import communicator

pytestmark = [pytest.mark.asyncio, pytest.mark.live]
LIMIT = 3


@pytest.fixture(scope="module")
def servers(django_db_setup):
    """Two app processes sharing the test Redis, each allowing LIMIT sockets per address."""
    started = [LiveServer(WS_MAX_SOCKETS_PER_ADDRESS=str(LIMIT)).start() for _ in range(2)]
    yield started
    for server in started:
        server.stop()


@pytest.fixture
def shared_count() -> RedisSocketCount:
    count = socket_count()
    assert isinstance(count, RedisSocketCount), "the suite runs with REDIS_URL"
    return count


def counted(count: RedisSocketCount, address: str = "127.0.0.1") -> int:
    return count.client.zcount(count.key(address), time.time(), "+inf")


async def until_counted(count: RedisSocketCount, expected: int, timeout: float = 10) -> None:
    """Wait for the servers to have processed opens and closes (a condition, not a delay)."""
    deadline = time.monotonic() + timeout
    while (now := await sync_to_async(counted)(count)) != expected:
        assert time.monotonic() < deadline, f"{now} sockets counted, expected {expected}"
        await asyncio.sleep(0.02)


async def open_socket(server: LiveServer, origin: str | None = None):
    socket = await connect(server.ws_url, origin=origin or server.url, open_timeout=10)
    hello = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert hello["type"] == "hello"
    return socket


async def refused_with(server: LiveServer) -> int:
    """Open a socket the server should close at once; the close code it got."""
    socket = await connect(server.ws_url, origin=server.url, open_timeout=10)
    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 10)
    return closed.value.rcvd.code


# --- Origin ----------------------------------------------------------------------------------


async def test_the_servers_own_origin_is_accepted(servers):
    socket = await open_socket(servers[0])
    await socket.close()


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:9999",  # same host, another port
        "https://127.0.0.1:{port}",  # same host and port, another scheme
        "http://localhost:{port}",  # an allowed host, but not this page's
        "http://evil.example.com",
        "null",
    ],
)
async def test_an_origin_differing_in_scheme_host_or_port_is_refused(servers, origin):
    server = servers[0]
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await connect(server.ws_url, origin=origin.format(port=server.port), open_timeout=10)
    assert refused.value.response.status_code == 403


async def test_a_handshake_without_origin_is_refused(servers):
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await connect(servers[0].ws_url, open_timeout=10)
    assert refused.value.response.status_code == 403


# In-process, through the same ASGI stack: what the settings of a proxied deployment allow.


async def test_behind_a_tls_proxy_the_forwarded_scheme_counts(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    forwarded = [(b"x-forwarded-proto", b"https")]

    https_page = communicator(origin=b"https://testserver", headers=forwarded)
    plain_page = communicator(origin=b"http://testserver", headers=forwarded)
    unproxied = communicator(origin=b"https://testserver")

    assert (await https_page.connect(timeout=10))[0]
    await https_page.disconnect()
    assert not (await plain_page.connect(timeout=10))[0]
    assert not (await unproxied.connect(timeout=10))[0]


async def test_csrf_trusted_origins_are_accepted_with_their_scheme_and_port(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://portal.example", "https://*.learn.example:8443"]

    for origin, accepted in [
        (b"https://portal.example", True),
        (b"https://portal.example:443", True),
        (b"https://eu.learn.example:8443", True),
        (b"http://portal.example", False),
        (b"https://portal.example:8443", False),
        (b"https://eu.learn.example", False),
    ]:
        socket = communicator(origin=origin)
        ok, _ = await socket.connect(timeout=10)
        assert ok is accepted, origin
        if ok:
            await socket.disconnect()


# --- sockets per address ---------------------------------------------------------------------


async def test_sockets_over_the_limit_are_closed_with_4430(servers, shared_count):
    server = servers[0]
    sockets = [await open_socket(server) for _ in range(LIMIT)]

    assert await refused_with(server) == CLOSE_TOO_MANY_SOCKETS
    # The ones already open are untouched.
    await sockets[0].send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(sockets[0].recv(), 10))["type"] in (
        "pong",
        "heartbeat",
    )
    for socket in sockets:
        await socket.close()
    await until_counted(shared_count, 0)


async def test_closed_sockets_free_their_place(servers, shared_count):
    server = servers[0]
    for _ in range(LIMIT * 3):  # opened and closed one after the other: never over the limit
        socket = await open_socket(server)
        await socket.close()
        # The server frees the place once it has handled the close, which may come after the
        # client's close() returns: the next socket is opened once it has.
        await until_counted(shared_count, 0)

    sockets = [await open_socket(server) for _ in range(LIMIT)]
    await sockets[0].close()
    await until_counted(shared_count, LIMIT - 1)
    sockets[0] = await open_socket(server)  # the closed one's place
    assert await refused_with(server) == CLOSE_TOO_MANY_SOCKETS
    for socket in sockets:
        await socket.close()
    await until_counted(shared_count, 0)


async def test_the_limit_holds_across_server_processes(servers, shared_count):
    first, second = servers
    sockets = [await open_socket(first) for _ in range(LIMIT - 1)]
    sockets.append(await open_socket(second))
    await until_counted(shared_count, LIMIT)

    assert await refused_with(second) == CLOSE_TOO_MANY_SOCKETS
    assert await refused_with(first) == CLOSE_TOO_MANY_SOCKETS
    for socket in sockets:
        await socket.close()
    await until_counted(shared_count, 0)


async def test_sockets_of_a_crashed_process_stop_counting_when_their_lease_ends(
    servers, shared_count
):
    # What a process that died with sockets open leaves behind: entries whose lease ended.
    key = shared_count.key("127.0.0.1")
    lapsed = time.time() - 1
    shared_count.client.zadd(key, {f"dead-{n}": lapsed for n in range(LIMIT)})

    sockets = [await open_socket(servers[0]) for _ in range(LIMIT)]

    for socket in sockets:
        await socket.close()
    await until_counted(shared_count, 0)
