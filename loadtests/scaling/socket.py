"""One portal websocket per simulated browser tab, for Locust users (gevent).

A reader greenlet takes every frame as it arrives and hands it to the handlers the user
registered by frame type; the user's own greenlet sends. Answers and events become Locust
request events (`events.request.fire`), with request_type "WS", so they count, fail and
aggregate (over --processes workers too) like HTTP requests.
"""

import contextlib
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import gevent
from gevent.event import AsyncResult
from locust.env import Environment
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

Handler = Callable[[dict[str, Any], float], None]


class SocketError(Exception):
    """The socket closed, or an answer did not come."""


def ws_url(host: str) -> str:
    return host.replace("https://", "wss://", 1).replace("http://", "ws://", 1).rstrip("/") + "/ws/"


def seconds_since(timestamp: str, now: float) -> float:
    """Seconds from an ISO 8601 timestamp of the server's clock to `now` (time.time())."""
    return now - datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


class PortalSocket:
    def __init__(self, environment: Environment, host: str, *, token: str | None = None) -> None:
        self.environment = environment
        self.host = host.rstrip("/")
        self.token = token
        self.handlers: dict[str, Handler] = {}
        self.connection: ClientConnection | None = None
        self.reader: gevent.Greenlet | None = None
        self.hello: AsyncResult = AsyncResult()
        self.closed = False

    def fire(self, name: str, started: float | None = None, *, elapsed_ms: float | None = None,
             exception: BaseException | None = None, length: int = 0) -> None:  # fmt: skip
        """Record one answer or event: its latency from `started` (time.perf_counter()) or
        as given."""
        if elapsed_ms is None:
            elapsed_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        self.environment.events.request.fire(
            request_type="WS",
            name=name,
            response_time=max(elapsed_ms, 0.0),
            response_length=length,
            exception=exception,
            context={},
        )

    def open(self, timeout: float = 30) -> dict[str, Any]:
        """Connect (timed as "ws connect") and wait for `hello`."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        self.hello, self.closed = AsyncResult(), False
        started = time.perf_counter()
        try:
            self.connection = connect(
                ws_url(self.host),
                origin=self.host,
                additional_headers=headers,
                open_timeout=timeout,
                close_timeout=5,
                max_size=2**22,
            )
            self.reader = gevent.spawn(self._read)
            hello = self.hello.get(timeout=timeout)
        except Exception as exc:
            self.fire("ws connect", started, exception=exc)
            self.close()
            raise SocketError(f"connect: {exc!r}") from exc
        self.fire("ws connect", started)
        return hello

    def on(self, frame_type: str, handler: Handler) -> None:
        self.handlers[frame_type] = handler

    def send(self, frame: dict[str, Any]) -> None:
        if self.connection is None or self.closed:
            raise SocketError("the socket is closed")
        self.connection.send(json.dumps(frame))

    def _read(self) -> None:
        assert self.connection is not None
        try:
            for raw in self.connection:
                arrived = time.time()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "hello":
                    self.hello.set(frame)
                handler = self.handlers.get(kind)
                if handler is not None:
                    handler(frame, arrived)
        except ConnectionClosed:
            pass
        except Exception as exc:  # a handler's bug must show, not end the socket silently
            self.fire("ws reader", exception=exc)
        finally:
            if not self.closed:  # the server closed it: a tab would reconnect
                self.closed = True
                self.fire("ws closed by the server", exception=SocketError("closed"))
                if not self.hello.ready():
                    self.hello.set_exception(SocketError("closed before hello"))

    def close(self) -> None:
        self.closed = True
        if self.connection is not None:
            with contextlib.suppress(Exception):  # already gone
                self.connection.close()
        if self.reader is not None:
            self.reader.join(timeout=5)
            self.reader.kill(block=False)
