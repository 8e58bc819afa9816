"""Twisted TCP writes sent at once when nothing is queued, as asyncio's transports do.

Twisted's `FileDescriptor.write` only buffers: it registers the socket for writability
(`startWriting`, an epoll_ctl), the reactor wakes on the next loop turn, `doWrite`
sends and unregisters it (a second epoll_ctl). For a fan-out of one frame to 1,000
sockets that is 2,000 epoll_ctl calls and 1,000 extra wake-ups before anything leaves;
py-spy put about a third of a daphne process's fan-out time there (docs/benchmarks.md).

With this, a write on a connection whose buffer is empty goes straight to `send()`;
only what the kernel does not take is buffered, through Twisted's own `write`, so
ordering, producers, back-pressure and half-close behave as before. Any other state
(data already queued, disconnected, an error from send) takes Twisted's path unchanged.
"""

from __future__ import annotations

import functools
from typing import Any


def install() -> None:
    """Patch `twisted.internet.tcp.Connection.write` (daphne's HTTP and websocket
    connections are its subclass `Server`). Idempotent."""
    from twisted.internet import tcp

    if getattr(tcp.Connection, "portal_sends_now", False):
        return
    queued_write = tcp.Connection.write

    @functools.wraps(queued_write)
    def write(self: Any, data: bytes) -> None:
        if (
            type(data) is not bytes
            or not data
            or not self.connected
            or self._writeDisconnected
            or self._tempDataLen
            or self.offset != len(self.dataBuffer)
        ):
            queued_write(self, data)
            return
        try:
            sent = self.socket.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            # A reset or a broken pipe: Twisted's path finds it on its next doWrite and
            # closes the connection the way it always does.
            sent = 0
        if sent < len(data):
            queued_write(self, data[sent:])

    setattr(tcp.Connection, "write", write)  # noqa: B010 (mypy refuses a method assignment)
    setattr(tcp.Connection, "portal_sends_now", True)  # noqa: B010
