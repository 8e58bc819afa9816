"""Live course presence (`course.presence`): how many signed-in learners have a course's
own pages open now, counted across every server process, with no database write.

Who counts: a socket that watched the course with `"present": true` (the course page, a
lesson page), is signed in, and neither teaches the course nor is staff
(realtime.selectors.course_learner). A learner counts once, however many tabs.

Where the count lives (`store()`): in Redis when settings.REDIS_URL is set (every process
shares it), else in the process (`LocalPresence`: the embedded default, one process on the
in-memory channel layer). Both keep, per course, each learner's tabs with a lease; a tab's
lease is renewed while its socket is open and ends when the socket unwatches or closes.
Tabs of a process that died (SIGKILL, a lost host) stop counting once their lease ends.

Timing (PRESENCE_TTL_SECONDS, default 60): a tab of a dead process stops counting within
that many seconds. Leases last three quarters of it and each process renews its tabs, and
re-counts the courses its sockets watch, every quarter of it: a lease ends at most a
quarter after the last renewal before the crash plus three quarters, and the next
re-count (at most a quarter later) finds it gone. A tab closed normally leaves at once;
a tab that vanished without a close (a lost network) is closed by the server's own
websocket keep-alive (daphne pings an idle socket after 20 s and drops it 30 s later).

Cost: one round trip to Redis per watch, unwatch and close, and one per process every
quarter TTL for all its sockets together (a pipeline with one script call per course it
watches, each O(log n) in the course's learners plus what expired). Nothing scans a
course's members; nothing runs per socket on a timer.

Announcing: each change of the store returns the course's count and whether it differs
from the last one announced (kept beside the count, compared and replaced atomically, so
one process announces each change); that process sends `course.presence` to the course's
group, which reaches every process's watchers through the channel layer, at most once a
second per course (ANNOUNCE_EVERY_SECONDS: a held announcement counts again when it is
sent). A watcher also gets the count right after its `course.seats`.

Failures: Redis away is logged and otherwise ignored (the count stops moving; the socket
stays). This process's registry of its own tabs is kept, so the first renewal after Redis
is back adds them again and announces the count.
"""

import asyncio
import hashlib
import math
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as aioredis
import structlog
from channels.layers import get_channel_layer
from django.conf import settings

from portal import redis_config
from portal.events.publish import course_group, event_layer_message
from portal.events.types import CoursePresence

log = structlog.get_logger(__name__)

MIN_TTL_SECONDS = 0.5
# A process announces a course's count at most this often: a class arriving at once makes
# one announcement a second to the course's watchers, not one per learner. A held
# announcement counts again when it is sent, so it carries the count of that moment.
ANNOUNCE_EVERY_SECONDS = 1.0
# A script call renews at most this many tabs (a course with more local tabs takes more
# calls in the same pipeline): Redis runs one script at a time.
TABS_PER_CALL = 500

ADD, REMOVE = "+", "-"


@dataclass(frozen=True)
class Change:
    """One tab entering or renewing (ADD) or leaving (REMOVE) a course."""

    op: str
    user_id: int
    channel: str


@dataclass(frozen=True)
class Count:
    learners: int
    changed: bool  # differs from the count last announced for the course


def ttl_seconds() -> float:
    """settings.PRESENCE_TTL_SECONDS (from the environment; a test may override it)."""
    return max(MIN_TTL_SECONDS, float(settings.PRESENCE_TTL_SECONDS))


def lease_seconds() -> float:
    return ttl_seconds() * 3 / 4


def renew_every_seconds() -> float:
    return ttl_seconds() / 4


def keep_seconds() -> int:
    """How long a course's keys outlive their last write (whole seconds, for EXPIRE)."""
    return int(ttl_seconds() * 2) + 10


class PresenceStore(Protocol):
    async def apply(self, changes: dict[str, list[Change]]) -> dict[str, Count]:
        """Apply each course's changes (none: just prune and count); every course's count."""
        ...

    async def release(self) -> None:
        """Nothing of this process watches any more: let idle connections go."""
        ...


# --- in the process (the embedded default) --------------------------------------------------


class LocalPresence:
    """One process's tabs: course → user → channel → lease end (monotonic seconds)."""

    def __init__(self) -> None:
        self.tabs: dict[str, dict[int, dict[str, float]]] = {}
        self.announced: dict[str, int] = {}

    async def apply(self, changes: dict[str, list[Change]]) -> dict[str, Count]:
        now, lease = time.monotonic(), lease_seconds()
        counts = {}
        for course, course_changes in changes.items():
            users = self.tabs.setdefault(course, {})
            for change in course_changes:
                tabs = users.setdefault(change.user_id, {})
                if change.op == ADD:
                    tabs[change.channel] = now + lease
                else:
                    tabs.pop(change.channel, None)
            for user_id in list(users):
                live = {channel: end for channel, end in users[user_id].items() if end > now}
                if live:
                    users[user_id] = live
                else:
                    del users[user_id]
            if not users:
                del self.tabs[course]
            learners = len(users)
            changed = self.announced.get(course, 0) != learners
            self.announced[course] = learners
            counts[course] = Count(learners, changed)
        return counts

    async def release(self) -> None:
        pass


# --- in Redis (every process) ----------------------------------------------------------------

# KEYS[1]: the course's base key. ARGV: lease seconds, key lifetime (s), then triples
# (op, user id, channel). Per course: `<base>:users`, a sorted set of learners scored by
# the end of their last tab's lease; `<base>:tabs:<user>`, that learner's tabs scored by
# the end of their leases; `<base>:shown`, the count last announced (none: 0, so the first
# watcher of an empty course announces nothing). Redis's own clock, so the processes'
# clocks need not agree. Returns {learners, changed (0/1)}.
APPLY_SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local base = KEYS[1]
local users = base .. ':users'
local shown = base .. ':shown'
local lease = tonumber(ARGV[1])
local keep = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
for i = 3, #ARGV, 3 do
  local op, user, channel = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local tabs = base .. ':tabs:' .. user
  if op == '+' then
    redis.call('ZADD', tabs, now + lease, channel)
  else
    redis.call('ZREM', tabs, channel)
  end
  redis.call('ZREMRANGEBYSCORE', tabs, '-inf', now)
  local last = redis.call('ZRANGE', tabs, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('ZADD', users, last[2], user)
    redis.call('EXPIRE', tabs, keep)
  else
    redis.call('ZREM', users, user)
  end
end
redis.call('ZREMRANGEBYSCORE', users, '-inf', now)
local learners = redis.call('ZCARD', users)
if learners > 0 then redis.call('EXPIRE', users, keep) end
local before = redis.call('GET', shown) or '0'
redis.call('SET', shown, learners, 'EX', keep)
if before == tostring(learners) then return {learners, 0} end
return {learners, 1}
"""


class RedisPresence:
    """Every process's tabs, in Redis: one client (and connection pool) per process."""

    def __init__(self, url: str, prefix: str) -> None:
        # Blocking pool: a burst of watches waits for a connection instead of failing.
        # portal.redis_config: one server, or the master its sentinels name.
        pool = redis_config.async_pool(
            url,
            blocking=True,
            max_connections=50,
            timeout=2,
            socket_timeout=2,
            socket_connect_timeout=2,
        )
        self.client = aioredis.Redis(connection_pool=pool)
        self.script = self.client.register_script(APPLY_SCRIPT)
        self.prefix = prefix

    def key(self, course: str) -> str:
        # The braces keep a course's keys in one Redis Cluster slot (the script builds them).
        group = course_group(course)
        if len(group) > 100:  # course_group hashes long slugs already; bound it anyway
            group = hashlib.sha256(group.encode()).hexdigest()
        return f"{self.prefix}:presence:{{{group}}}"

    async def apply(self, changes: dict[str, list[Change]]) -> dict[str, Count]:
        lease, keep = lease_seconds(), keep_seconds()
        calls: list[str] = []
        async with self.client.pipeline(transaction=False) as pipe:
            for course, course_changes in changes.items():
                chunks = [
                    course_changes[start : start + TABS_PER_CALL]
                    for start in range(0, len(course_changes), TABS_PER_CALL)
                ] or [[]]
                for chunk in chunks:
                    args: list[Any] = [f"{lease:.3f}", keep]
                    for change in chunk:
                        args += [change.op, change.user_id, change.channel]
                    await self.script(keys=[self.key(course)], args=args, client=pipe)
                    calls.append(course)
            answers = await pipe.execute()
        counts: dict[str, Count] = {}
        for course, (learners, changed) in zip(calls, answers, strict=True):
            # A course split over calls: its last call has counted everything.
            previous = counts.get(course)
            counts[course] = Count(
                int(learners), bool(changed) or bool(previous and previous.changed)
            )
        return counts

    async def release(self) -> None:
        # Idle connections only: a leave still in flight keeps its own.
        await self.client.connection_pool.disconnect(inuse_connections=False)


def store() -> PresenceStore:
    if settings.REDIS_URL:
        return RedisPresence(settings.REDIS_URL, settings.CACHES["default"].get("KEY_PREFIX", ""))
    return LocalPresence()


# --- this process's sockets -------------------------------------------------------------------


class Presence:
    """This process's side: which of its sockets watch which course (and which of them
    count), their leases renewed together, and the announcing.

    Renewals and the leaves of sockets are ordered: a leave waits for a renewal in flight
    (which may still carry the tab) to finish, so no renewal adds back a tab that left."""

    def __init__(self, presence_store: PresenceStore) -> None:
        self.store = presence_store
        self.watchers: dict[str, set[str]] = {}  # course → channels of this process
        self.learners: dict[str, dict[str, int]] = {}  # course → channel → user id (counted)
        self.idle = asyncio.Event()
        self.idle.set()
        self.renewing: asyncio.Task | None = None
        self.announced_at: dict[str, float] = {}  # course → when this process last told it
        self.held: set[str] = set()  # courses with an announcement waiting its turn
        self.tasks: set[asyncio.Task] = set()  # the loop keeps only weak references

    async def watch(self, *, course: str, channel: str, user_id: int | None) -> int | None:
        """A socket watches `course`, counted as `user_id`'s tab unless None (anonymous,
        not the course's own page, an author). The count now; None when unknown."""
        self.watchers.setdefault(course, set()).add(channel)
        counted = self.learners.get(course, {})
        changes = []
        if user_id is not None:
            self.learners.setdefault(course, {})[channel] = user_id
            changes.append(Change(ADD, user_id, channel))
        elif channel in counted:  # watched again, no longer as the course's page
            changes.append(Change(REMOVE, self._uncount(course, channel), channel))
            await self.idle.wait()
        self._renew_soon()
        counts = await self._apply({course: changes})
        return None if counts is None else counts[course]

    async def leave(self, *, channel: str, courses: Iterable[str]) -> None:
        """The socket stops watching the courses (it unwatched them, or it closed)."""
        removals: dict[str, list[Change]] = {}
        left = False
        for course in courses:
            watchers = self.watchers.get(course)
            if watchers is None or channel not in watchers:
                continue
            left = True
            watchers.discard(channel)
            if not watchers:
                del self.watchers[course]
                self.announced_at.pop(course, None)
            if channel in self.learners.get(course, {}):
                removals[course] = [Change(REMOVE, self._uncount(course, channel), channel)]
        if removals:
            await self.idle.wait()
            await self._apply(removals)
        if left and not self.watchers:
            if self.renewing is not None:
                self.renewing.cancel()
                self.renewing = None
            try:
                await self.store.release()
            except Exception as exc:
                log.warning("ws.presence_release_failed", error=repr(exc))

    async def renew(self) -> None:
        """Renew every counted tab of this process and re-count every course it watches
        (tabs of dead processes drop out here); announce what changed."""
        changes = {
            course: [
                Change(ADD, user_id, channel)
                for channel, user_id in self.learners.get(course, {}).items()
            ]
            for course in self.watchers
        }
        if not changes:
            return
        self.idle.clear()
        try:
            counts = await self._store_apply(changes)
        finally:
            self.idle.set()
        await self._announce(counts)

    def _uncount(self, course: str, channel: str) -> int:
        counted = self.learners[course]
        user_id = counted.pop(channel)
        if not counted:
            del self.learners[course]
        return user_id

    async def _apply(self, changes: dict[str, list[Change]]) -> dict[str, int] | None:
        """The changes applied, what changed announced; each course's count, or None
        when the store failed."""
        counts = await self._store_apply(changes)
        await self._announce(counts)
        return None if counts is None else {course: c.learners for course, c in counts.items()}

    async def _store_apply(self, changes: dict[str, list[Change]]) -> dict[str, Count] | None:
        try:
            return await self.store.apply(changes)
        except Exception as exc:
            log.warning("ws.presence_unavailable", courses=len(changes), error=repr(exc))
            return None

    async def _announce(self, counts: dict[str, Count] | None) -> None:
        now = time.monotonic()
        for course, count in (counts or {}).items():
            if not count.changed or course in self.held:
                continue
            wait = self.announced_at.get(course, -math.inf) + ANNOUNCE_EVERY_SECONDS - now
            if wait <= 0:
                self.announced_at[course] = now
                await announce(course, count.learners)
            else:
                self.held.add(course)
                task = asyncio.create_task(self._announce_later(course, wait))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    async def _announce_later(self, course: str, wait: float) -> None:
        await asyncio.sleep(wait)
        self.held.discard(course)
        counts = await self._store_apply({course: []})  # the count now, not when held
        if counts is not None:
            self.announced_at[course] = time.monotonic()
            await announce(course, counts[course].learners)

    def _renew_soon(self) -> None:
        if self.renewing is None or self.renewing.done():
            self.renewing = asyncio.create_task(self._renew_forever())

    async def _renew_forever(self) -> None:
        while self.watchers:
            await asyncio.sleep(renew_every_seconds())
            try:
                await self.renew()
            except Exception:  # the next round tries again
                log.warning("ws.presence_renew_failed", exc_info=True)


async def announce(course: str, learners: int) -> None:
    """`course.presence` to the course's watchers in every process; a failure is logged."""
    layer = get_channel_layer()
    if layer is None:
        return
    frame = CoursePresence(course=course, learners=learners).to_frame()
    try:
        await layer.group_send(course_group(course), event_layer_message(frame))
    except Exception as exc:
        log.warning("ws.presence_announce_failed", course=course[:80], error=repr(exc))


_processes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Presence]" = (
    weakref.WeakKeyDictionary()
)


def presence() -> Presence:
    """This process's Presence (one per event loop: a server process runs one)."""
    loop = asyncio.get_running_loop()
    found = _processes.get(loop)
    if found is None:
        found = _processes[loop] = Presence(store())
    return found
