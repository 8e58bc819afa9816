"""A consumer's messages, from the client and from the channel layer, handled one at a
time as Channels' `await_many_dispatch` does, for less per message.

Upstream makes a new task for each message and an `asyncio.wait` over both sources to
learn which finished: a task, a waiter future and four done-callbacks per frame, about
a fifth of a daphne process's time in a fan-out to 1,000 watchers (py-spy,
docs/benchmarks.md). Here each source has one long-lived task feeding one queue, and the
consumer handles what the queue holds in arrival order. A source that fails hands its
error to the loop, which raises it as upstream would; leaving cancels both tasks.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Source = Callable[[], Awaitable[Any]]  # the ASGI receive, the channel layer's


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


async def dispatch_each(sources: list[Source], dispatch: Callable[[Any], Awaitable[None]]) -> None:
    inbox: asyncio.Queue[dict[str, Any] | _Failed] = asyncio.Queue()

    async def feed(source: Source) -> None:
        while True:
            try:
                message = await source()
            except asyncio.CancelledError:
                raise
            except BaseException as error:  # the loop raises it, as upstream's would
                inbox.put_nowait(_Failed(error))
                return
            inbox.put_nowait(message)

    feeders = [asyncio.create_task(feed(source)) for source in sources]
    try:
        while True:
            message = await inbox.get()
            if isinstance(message, _Failed):
                raise message.error
            await dispatch(message)
    finally:
        for feeder in feeders:
            feeder.cancel()
        await asyncio.gather(*feeders, return_exceptions=True)
