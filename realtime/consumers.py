"""The one websocket per browser tab: `/ws/`.

Client frames: search, resume, watch, unwatch, ping. Server frames: hello, search.results,
enrollment.status, enrollment.created, progress.updated, course.seats, course.presence,
resume.done, resume.gap, resync, pong, heartbeat, error: each a class of
portal.events.types. Who is on a course's pages (`course.presence`) is realtime.presence's.
The ORM is reached only through database_sync_to_async into selectors, in a thread pool
(not the single shared "thread-sensitive" thread, which would serialise every socket's
reads).
"""

import asyncio
import contextlib
import functools
import random
import time
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar, cast

import structlog
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from catalog.models import Level
from catalog.search import SearchFilters, cached_search
from catalog.shapes import SearchSort
from portal.events import types
from portal.events.publish import course_group, frame_text, user_group
from portal.events.types import FrameError
from portal.metrics import WEBSOCKETS
from realtime import selectors
from realtime.delivery import DeliveryWatch, latest_seq
from realtime.dispatch import dispatch_each
from realtime.presence import presence

log = structlog.get_logger(__name__)

MAX_FRAME_BYTES = 8 * 1024
MAX_WATCHED_COURSES = 50
RESUME_BATCH = 500
CLOSE_CREDENTIALS_ENDED = 4401
CLOSE_FLOODING = 4429


def in_thread_pool(func):
    return database_sync_to_async(func, thread_sensitive=False)


class FrameBudget:
    """Token bucket: `rate` frames a second, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.updated = time.monotonic()
        self.refused = 0

    def admit(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= self.burst:
            self.refused = 0  # a full bucket: the client calmed down, forget past bursts
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.refused += 1
        return False


def first_beat_delay(interval: float) -> float:
    """The first heartbeat comes after a random half to whole interval. Sockets that
    connected together (every tab reconnecting after a deploy) would otherwise beat, and
    recheck their credentials in the database, together for as long as they live."""
    return interval * random.uniform(0.5, 1.0)


class PortalConsumer(AsyncWebsocketConsumer):
    async def __call__(self, scope, receive, send) -> None:
        # Upstream's __call__ with realtime.dispatch's loop in place of
        # await_many_dispatch (a task and an asyncio.wait per message).
        self.scope = scope
        layer = get_channel_layer(self.channel_layer_alias)
        if layer is None:
            raise RuntimeError("the portal's sockets need a channel layer")
        self.channel_layer = layer
        self.channel_name = await layer.new_channel()
        channel_receive = functools.partial(layer.receive, self.channel_name)
        self.channel_receive = channel_receive  # type: ignore[assignment]
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            await dispatch_each([receive, channel_receive], self.dispatch)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Upstream's dispatch, without its `aclose_old_connections()` before every
        # handler: a hop to the one thread-sensitive thread per message, so a fan-out to
        # 1,000 watchers queued 1,000 hops there (a third of the process's time in
        # py-spy). This consumer runs no query in that thread: every one goes through
        # database_sync_to_async, which closes stale connections around each call itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.joined: set[str] = set()
        self.unjoined: set[str] = set()  # joined, but the channel layer failed: retried
        self.watching: set[str] = set()
        self.search_task: asyncio.Task | None = None
        self.heartbeat_task: asyncio.Task | None = None
        self.delivery = DeliveryWatch()
        self.budget = FrameBudget(settings.WS_FRAMES_PER_SECOND, settings.WS_FRAME_BURST)
        await self.accept()
        WEBSOCKETS.inc()
        # Join before reading `seq`: an event committed in between is then either live or
        # below hello's seq (and so reachable with resume). Nothing falls in a hole.
        if (user_id := self.user_id) is not None:
            await self._join(user_group(user_id))
        # Put in the scope by realtime.handshake.
        groups = cast(list[str], self.scope.get("credential_groups", []))
        for group in groups:
            await self._join(group)
        hello = await in_thread_pool(selectors.user_hello)(self.user)
        self.delivery.delivered = hello.seq
        await self.send_frame(hello)
        self.heartbeat_task = asyncio.create_task(self._heartbeat())

    @property
    def user_id(self) -> int | None:
        """The signed-in account's id; None on an anonymous socket."""
        user = self.user
        return user.pk if user is not None and user.is_authenticated else None

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    async def disconnect(self, code: int) -> None:
        if self.heartbeat_task is not None:  # set once connect() accepted
            WEBSOCKETS.dec()
        for task in (self.search_task, self.heartbeat_task):
            if task is not None:
                task.cancel()
        if getattr(self, "watching", None):
            await presence().leave(channel=self.channel_name, courses=self.watching)
        for group in list(self.joined):
            await self._discard(group)
        self.joined.clear()

    async def _join(self, group: str) -> None:
        self.joined.add(group)
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception:
            # Redis is away. The socket stays (search and resume need no layer): the
            # heartbeat joins again, then sends `resync` for what passed meanwhile.
            log.warning("ws.group_add_failed", group=group, exc_info=True)
            self.unjoined.add(group)

    async def _leave(self, group: str) -> None:
        self.joined.discard(group)
        self.unjoined.discard(group)
        await self._discard(group)

    async def _discard(self, group: str) -> None:
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except Exception:
            log.warning("ws.group_discard_failed", group=group, exc_info=True)

    async def _rejoin(self) -> bool:
        """Join the groups the layer failed to join; True once all are joined."""
        for group in list(self.unjoined):
            try:
                await self.channel_layer.group_add(group, self.channel_name)
            except Exception:
                return False
            self.unjoined.discard(group)
        return True

    async def send_frame(self, frame: types.Frame) -> None:
        await self.send_message(frame.to_frame())

    async def send_message(self, message: dict[str, Any]) -> None:
        """A frame already built (an event from the log or the channel layer)."""
        await self.send(text_data=frame_text(message))

    async def send_error(self, code: str, message: str, id: int | str | None = None) -> None:
        await self.send_frame(types.Error(code=code, message=message, id=id))

    async def _heartbeat(self) -> None:
        beats = 0
        delay = first_beat_delay(settings.WS_HEARTBEAT_SECONDS)
        while True:
            await asyncio.sleep(delay)
            delay = settings.WS_HEARTBEAT_SECONDS
            await self.send_frame(types.Heartbeat())
            beats += 1
            await self._check_delivery()
            # Logout closes sockets at once; this catches the rest (a token revoked in
            # the admin or expired, a deactivated user) within a few heartbeats.
            user_id = self.user_id
            if user_id is not None and beats % settings.WS_RECHECK_EVERY_BEATS == 0:
                valid = await in_thread_pool(selectors.credentials_still_valid)(
                    user_id=user_id, bearer_token=self.scope.get("bearer_token")
                )
                if not valid:
                    await self.close(code=CLOSE_CREDENTIALS_ENDED)
                    return

    async def _check_delivery(self) -> None:
        """`resync` when events in the log were not delivered a beat after they were seen
        there, or when the channel layer works again after failing this socket."""
        try:
            layer_back = bool(self.unjoined) and await self._rejoin()
            user_id = self.user_id
            latest = await latest_seq(user_id) if user_id is not None else None
        except Exception as exc:  # the database is away: the next beat tries again
            log.warning("ws.delivery_check_failed", error=repr(exc))
            return
        if self.delivery.beat(latest, layer_back=layer_back):
            log.info("ws.resync", user=getattr(self.user, "pk", None), layer_back=layer_back)
            await self.send_frame(types.Resync())

    # --- client frames ------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.budget.admit():
            if self.budget.refused > settings.WS_FLOOD_CLOSE_AFTER:
                log.warning("ws.flood_closed", user=getattr(self.user, "pk", None))
                await self.close(code=CLOSE_FLOODING)
            elif self.budget.refused == 1 or self.budget.refused % 50 == 0:
                await self.send_error("throttled", "Too many frames; slow down.")
            return
        raw = text_data if text_data is not None else bytes_data or b""
        frame_id = None
        try:
            decoded = types.client_frame_decode(raw, max_bytes=MAX_FRAME_BYTES)
            frame_id = decoded.get("id")
            frame_class = types.client_frame_class(decoded)
            if frame_class.requires_user and not self.authenticated:
                raise FrameError("not_authenticated", "Sign in to receive your events.")
            frame = frame_class.parse(decoded)
            await self.HANDLERS[frame_class](self, frame)
        except FrameError as exc:
            await self.send_error(
                exc.code, exc.message, id=frame_id if isinstance(frame_id, int | str) else None
            )

    async def on_ping(self, frame: types.Ping) -> None:
        await self.send_frame(types.Pong())

    async def on_search(self, frame: types.Search) -> None:
        filters = SearchFilters(**frame.filter_values(levels=Level.values))
        sort = frame.sort_value(sorts=SearchSort.values)
        # A newer keystroke supersedes the search in flight.
        if self.search_task is not None and not self.search_task.done():
            self.search_task.cancel()
        self.search_task = asyncio.create_task(
            self._search(frame.id, frame.q, filters, frame.limit, sort)
        )

    async def _search(self, request_id, query: str, filters, limit: int, sort: str) -> None:
        def run() -> dict[str, Any]:
            # The HTTP endpoint's cache: keystrokes repeat prefixes across users.
            return cached_search(query=query, filters=filters, limit=limit, offset=0, sort=sort)

        try:
            result = await in_thread_pool(run)()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("ws.search_failed", query=query[:50])
            await self.send_error("search_failed", "Search is unavailable; retry.", id=request_id)
            return
        await self.send_frame(types.SearchResults(id=request_id, **result))

    async def on_resume(self, frame: types.Resume) -> None:
        after = frame.after
        user_id = cast(int, self.user_id)  # a resume needs a signed-in socket (requires_user)
        # A seq this user never had would mark every coming event as seen (dropped).
        if after > self.delivery.delivered and await in_thread_pool(selectors.resume_beyond_latest)(
            user_id=user_id, after=after
        ):
            raise FrameError("invalid_frame", "after is beyond your latest event.")
        if await in_thread_pool(selectors.resume_gap)(user_id=user_id, after=after):
            await self.send_frame(types.ResumeGap(after=after, seq=self.delivery.delivered))
            return
        # Live events queue behind this handler; duplicates are dropped by seq.
        cursor = after
        while True:
            batch = await in_thread_pool(selectors.events_after)(
                user_id=user_id, after=cursor, limit=RESUME_BATCH
            )
            for message in batch:
                await self.send_message(message)
                cursor = message["seq"]
                self.delivery.replayed(cursor)
            if len(batch) < RESUME_BATCH:
                break
        await self.send_frame(types.ResumeDone(seq=cursor))

    async def on_watch(self, frame: types.Watch) -> None:
        slug = frame.course
        if slug not in self.watching and len(self.watching) >= MAX_WATCHED_COURSES:
            raise FrameError("too_many_watches", f"Watch at most {MAX_WATCHED_COURSES} courses.")
        states = await in_thread_pool(selectors.course_watch_state)(slug=slug)
        if states is None:
            raise FrameError("not_found", "No such course.")
        await self._join(course_group(slug))
        self.watching.add(slug)
        for state in states:  # course.seats, then course.waitlist for a course with a capacity
            await self.send_frame(state)
        await self._watch_presence(slug, present=frame.present)

    async def _watch_presence(self, slug: str, *, present: bool) -> None:
        """`course.presence` now; the tab counts when it is a signed-in learner's page of
        the course (realtime.presence)."""
        learner = (
            present
            and self.authenticated
            and await in_thread_pool(selectors.course_learner)(slug=slug, user=self.user)
        )
        learners = await presence().watch(
            course=slug, channel=self.channel_name, user_id=self.user_id if learner else None
        )
        if learners is not None:  # None: the count is unavailable (Redis away)
            await self.send_frame(types.CoursePresence(course=slug, learners=learners))

    async def on_unwatch(self, frame: types.Unwatch) -> None:
        slug = frame.course
        if slug in self.watching:
            self.watching.discard(slug)
            await self._leave(course_group(slug))
            await presence().leave(channel=self.channel_name, courses=[slug])

    HANDLERS: ClassVar[
        dict[type[types.ClientFrame], Callable[[Any, Any], Coroutine[Any, Any, None]]]
    ] = {
        types.Ping: on_ping,
        types.Search: on_search,
        types.Resume: on_resume,
        types.Watch: on_watch,
        types.Unwatch: on_unwatch,
    }

    # --- channel-layer messages -----------------------------------------------------------

    async def portal_event(self, event: dict[str, Any]) -> None:
        # `text`: the frame, encoded once by the publisher for every socket of the group
        # (portal.events.publish.event_layer_message); `message`: a frame to encode here.
        text = event.get("text")
        if text is None:
            text = frame_text(event["message"])
            seq = event["message"].get("seq")
        else:
            seq = event.get("seq")
        if seq is not None:
            send, gap = self.delivery.live(seq)
            if not send:
                return  # already sent by a resume
            if gap:  # the events between were lost on the way: the client resumes
                await self.send_frame(types.Resync())
        await self.send(text_data=text)

    async def portal_close(self, event: dict[str, Any]) -> None:
        await self.close(code=CLOSE_CREDENTIALS_ENDED)
