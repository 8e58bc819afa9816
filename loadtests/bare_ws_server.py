"""The floor for fan-out: a bare `websockets` broadcast server with no framework, no
channel layer and no database. A client that sends "broadcast <text>" makes the server
send <text> to every connected client.

    python loadtests/bare_ws_server.py PORT
"""

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

CLIENTS: set[ServerConnection] = set()


async def handler(connection: ServerConnection) -> None:
    CLIENTS.add(connection)
    try:
        async for message in connection:
            if isinstance(message, str) and message.startswith("broadcast "):
                broadcast(CLIENTS, message.removeprefix("broadcast "))
    finally:
        CLIENTS.discard(connection)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, ping_interval=None, max_queue=None) as server:
        print(f"bare broadcast server on ws://127.0.0.1:{port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
