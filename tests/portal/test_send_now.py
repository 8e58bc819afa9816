"""portal.send_now on a real Twisted asyncio reactor (a private instance, not the
process's global one) and real TCP sockets: a write with nothing queued leaves at once,
what the kernel does not take queues behind it in order, and a peer's reset loses the
connection the way Twisted always does."""

import asyncio
import os
import socket
import struct
import threading

from twisted.internet.asyncioreactor import AsyncioSelectorReactor
from twisted.internet.protocol import Factory, Protocol

from portal import send_now


def serve(protocol_class, client) -> AsyncioSelectorReactor:
    """Run `protocol_class` for one connection made by `client(port)` in a thread, until
    the client stops the reactor."""
    send_now.install()
    loop = asyncio.new_event_loop()
    reactor = AsyncioSelectorReactor(loop)
    protocol_class.reactor = reactor
    port = reactor.listenTCP(0, Factory.forProtocol(protocol_class), interface="127.0.0.1")

    def run_client() -> None:
        try:
            client(port.getHost().port)
        finally:
            reactor.callFromThread(reactor.stop)

    threading.Thread(target=run_client, daemon=True).start()
    reactor.run(installSignalHandlers=False)
    loop.close()
    return reactor


def test_a_write_leaves_at_once_and_a_large_one_queues_its_rest_in_order():
    payload = [b"first", os.urandom(8 << 20), b"last"]
    seen: dict[str, bool] = {}

    class Writer(Protocol):
        def connectionMade(self) -> None:
            transport = self.transport
            transport.write(payload[0])
            # Nothing waits in Twisted's buffers and no writer is registered: it was sent.
            seen["first left at once"] = (
                not transport._tempDataLen
                and transport.offset == len(transport.dataBuffer)
                and transport not in self.reactor.getWriters()
            )
            transport.write(payload[1])  # more than a socket buffer takes at once
            seen["the rest queued"] = transport in self.reactor.getWriters()
            transport.write(payload[2])
            transport.loseConnection()

    received = bytearray()

    def client(port: int) -> None:
        with socket.create_connection(("127.0.0.1", port)) as peer:
            while chunk := peer.recv(1 << 16):
                received.extend(chunk)

    serve(Writer, client)
    assert seen == {"first left at once": True, "the rest queued": True}
    assert bytes(received) == b"".join(payload)


def test_a_reset_peer_loses_the_connection_without_an_error():
    lost: list[str] = []
    errors: list[BaseException] = []
    reset = threading.Event()

    class Writer(Protocol):
        def connectionMade(self) -> None:
            self.reactor.callInThread(self.write_after_reset)

        def write_after_reset(self) -> None:
            reset.wait(10)
            self.reactor.callFromThread(self.keep_writing)

        def keep_writing(self) -> None:
            if self.transport.connected:
                try:
                    self.transport.write(b"x" * 65536)
                except BaseException as error:  # Twisted would only log it
                    errors.append(error)
                    raise
                self.reactor.callLater(0.01, self.keep_writing)

        def connectionLost(self, reason) -> None:
            lost.append(type(reason.value).__name__)

    def client(port: int) -> None:
        peer = socket.create_connection(("127.0.0.1", port))
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        peer.close()  # an RST, not a FIN
        reset.set()
        for _ in range(500):  # until the server has noticed (it stops the reactor then)
            if lost:
                return
            threading.Event().wait(0.01)

    serve(Writer, client)
    assert errors == []
    assert lost and lost[0] in {"ConnectionLost", "ConnectionDone"}, lost
