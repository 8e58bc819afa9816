"""Helpers for the account tests that run against a running server (tests/live.py):
a browser's cookie jar signed in through the sign-in API, bearer-token calls, and real
websockets with the close code they end with."""

import asyncio
import http.cookiejar
import json
import urllib.error
import urllib.request

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from tests.factories import PASSWORD
from tests.live import LiveServer

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CURL = "curl/8.5.0"
Answer = tuple[int, object]


@pytest.fixture(scope="module")
def server(django_db_setup):
    live = LiveServer().start()
    yield live
    live.stop()


def _call(opener, server: LiveServer, method: str, path: str, body, headers) -> Answer:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        server.url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with opener.open(request, timeout=10) as response:
            text = response.read()
            is_json = "json" in response.headers.get("Content-Type", "")
            return response.status, json.loads(text) if text and is_json else text
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, json.loads(text) if text else None


class Browser:
    """A cookie jar on the running server, signed in through its sign-in API (the CSRF
    cookie from a page first, as the sign-in page has it)."""

    def __init__(self, server: LiveServer, user_agent: str = FIREFOX) -> None:
        self.server = server
        self.user_agent = user_agent
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str:
        return next((cookie.value for cookie in self.jar if cookie.name == name), "")

    def call(self, method: str, path: str, body: dict | None = None) -> Answer:
        headers = {"User-Agent": self.user_agent, "X-CSRFToken": self.cookie("csrftoken")}
        return _call(self.opener, self.server, method, path, body, headers)

    def sign_in(self, email: str) -> "Browser":
        assert self.call("GET", "/signin")[0] == 200
        status, _ = self.call("POST", "/api/auth/login", {"email": email, "password": PASSWORD})
        assert status == 200
        return self


def token_call(server: LiveServer, token: str, method: str, path: str, body=None) -> Answer:
    headers = {"Authorization": f"Bearer {token}", "User-Agent": CURL}
    return _call(urllib.request.build_opener(), server, method, path, body, headers)


def cookie_call(server: LiveServer, session_key: str, method: str, path: str) -> Answer:
    """A request with exactly this session cookie (one the server may have ended)."""
    headers = {"Cookie": f"sessionid={session_key}", "User-Agent": FIREFOX}
    return _call(urllib.request.build_opener(), server, method, path, None, headers)


async def open_ws(
    server: LiveServer, *, token: str | None = None, browser: Browser | None = None
) -> tuple[ClientConnection, dict]:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if browser:
        headers["Cookie"] = f"sessionid={browser.cookie('sessionid')}"
    socket = await connect(
        server.ws_url, origin=server.url, additional_headers=headers, open_timeout=10
    )
    hello = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert hello["type"] == "hello"
    return socket, hello


async def close_code(socket: ClientConnection) -> int:
    """The code the server closes the socket with (heartbeats may come first)."""
    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(socket.recv(), 10)
    return closed.value.rcvd.code
