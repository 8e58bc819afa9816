"""Noticing that a socket may have missed live events, whatever lost them.

The channel layer delivers at most once and says nothing when it drops: a publisher's
`group_send` fails while Redis is away (logged, swallowed), and the pub/sub layer's
subscription reconnects after a Redis restart without what was published meanwhile. The
event log is the truth, so each socket compares what it sent with the log and, when
something is missing, sends `resync`: the client answers with `resume`.
"""

import asyncio
import weakref
from collections.abc import Awaitable, Callable

from channels.db import database_sync_to_async

from realtime import selectors

# Heartbeats of a process's sockets that ask within this window share one query.
READ_WINDOW_SECONDS = 0.25


class DeliveryWatch:
    """One socket's account of its user's events, and when to ask the client to resync.

    - `delivered`: the highest seq sent to the socket (hello's, live events, replays);
    - a live event above `delivered + 1`: the ones between were lost, resync at once;
    - every heartbeat, the log's latest seq: one above `delivered` that is still above it a
      beat later was lost rather than in flight: resync, once for that gap;
    - the channel layer failed the socket (a group it could not join) and works again:
      resync, since nothing reached the socket through the groups meanwhile.
    """

    def __init__(self, delivered: int = 0) -> None:
        self.delivered = delivered
        self.resynced = 0  # the resyncs sent cover every seq up to this one
        self.ahead: int | None = None  # the log's latest seq at the last beat, if unsent

    def live(self, seq: int) -> tuple[bool, bool]:
        """A live event arrived: (send it?, resync first?). Seen ones are dropped."""
        if seq <= self.delivered:
            return False, False  # sent already, by a resume
        gap = seq > self.delivered + 1
        self.delivered = seq
        if gap:
            self.resynced = max(self.resynced, seq)
        return True, gap

    def replayed(self, seq: int) -> None:
        """An event was sent by a resume."""
        self.delivered = max(self.delivered, seq)

    def beat(self, latest: int | None, *, layer_back: bool = False) -> bool:
        """A heartbeat with the log's latest seq (None for anonymous sockets): True when
        the socket should get `resync`."""
        previous = self.ahead
        self.ahead = latest if latest is not None and latest > self.delivered else None
        lost = previous is not None and previous > max(self.delivered, self.resynced)
        if not (lost or layer_back):
            return False
        self.resynced = max(self.resynced, self.delivered, latest or 0)
        return True


class LatestSeqs:
    """The log's latest seq per user, one query for all the reads that arrive within
    `window` seconds: 2,000 sockets beating every 20 s would otherwise be 100 reads a second,
    each a thread hop and, without a connection pool, a new database connection."""

    def __init__(
        self, read: Callable[[list[int]], Awaitable[dict[int, int]]], window: float
    ) -> None:
        self.read = read
        self.window = window
        self.waiting: dict[int, list[asyncio.Future[int]]] = {}
        self.pending: asyncio.Task | None = None  # the read that takes new requests
        self.tasks: set[asyncio.Task] = set()  # the loop keeps only weak references

    async def get(self, user_id: int) -> int:
        future = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(user_id, []).append(future)
        if self.pending is None:
            self.pending = asyncio.create_task(self._read_soon())
            self.tasks.add(self.pending)
            self.pending.add_done_callback(self.tasks.discard)
        return await future

    async def _read_soon(self) -> None:
        await asyncio.sleep(self.window)
        waiting, self.waiting, self.pending = self.waiting, {}, None
        try:
            seqs = await self.read(list(waiting))
        except Exception as exc:
            for futures in waiting.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        for user_id, futures in waiting.items():
            for future in futures:
                if not future.done():  # its socket closed meanwhile
                    future.set_result(seqs.get(user_id, 0))


_readers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LatestSeqs]" = (
    weakref.WeakKeyDictionary()
)


async def latest_seq(user_id: int) -> int:
    """The user's latest seq in the log, read together with the process's other sockets."""
    loop = asyncio.get_running_loop()
    reader = _readers.get(loop)
    if reader is None:
        read = database_sync_to_async(selectors.latest_seqs, thread_sensitive=False)
        reader = _readers[loop] = LatestSeqs(
            lambda user_ids: read(user_ids=user_ids), READ_WINDOW_SECONDS
        )
    return await reader.get(user_id)
