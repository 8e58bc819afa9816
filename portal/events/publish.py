"""Publishing frames: per-user events (logged, numbered) and course state (not logged).

An event is a row written in the caller's transaction (so a rollback leaves nothing);
delivery to the user's sockets happens only after commit, through the channel layer,
which may drop it: a reconnecting client replays from the table with `resume`.

A frame travels through the channel layer as its JSON text, encoded once here for every
socket of the group (`event_layer_message`); each socket only sends it on.
"""

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from portal.events import thread_loop
from portal.events.models import EventCursor, UserEvent
from portal.events.types import CoursePresence, CourseSeats, Event

log = structlog.get_logger(__name__)

# The channel-layer message type a consumer handles with `portal_event(self, message)`.
EVENT_MESSAGE_TYPE = "portal.event"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def course_group(slug: str) -> str:
    # Group names must stay under 100 characters; long slugs are hashed.
    if len(slug) <= 80:
        return f"course.{slug}"
    return f"course.h{hashlib.sha256(slug.encode()).hexdigest()[:40]}"


def publish_to_user(*, user_id: int, event: Event) -> UserEvent:
    """Record an event for a user and deliver it after the current transaction commits."""
    return publish_to_users(events=[(user_id, event)])[0]


def publish_to_users(*, events: Sequence[tuple[int, Event]]) -> list[UserEvent]:
    """Record events for many users at once (a user may appear more than once: consecutive
    seqs, in the order given) and deliver them all after the current transaction commits:
    one statement numbers them, one inserts the rows, one callback sends every message.
    Returns the rows in the order given."""
    for _, event in events:
        if not isinstance(event, Event):
            raise TypeError(f"publish_to_users takes portal.events.types.Event, not {event!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publish_to_user(s) must run inside the transaction that caused it")
    if not events:
        return []
    if connection.vendor == "postgresql":
        rows = _numbered_and_written(events)
    else:  # SQLite (the embedded default) serialises writers anyway.
        firsts = _next_seqs(Counter(user_id for user_id, _ in events))
        rows = []
        for user_id, event in events:
            rows.append(
                UserEvent(
                    user_id=user_id, seq=firsts[user_id], type=event.type, payload=event.payload()
                )
            )
            firsts[user_id] += 1
        rows = UserEvent.objects.bulk_create(rows)
    sends = [(user_group(row.user_id), event_layer_message(event_message(row))) for row in rows]
    transaction.on_commit(lambda: group_send_many(sends))
    return rows


def _numbered_and_written(events: Sequence[tuple[int, Event]]) -> list[UserEvent]:
    """PostgreSQL: the seqs allocated and the rows written in one statement (one round
    trip per event published, not two). The cursor rows are locked in user id order, so
    concurrent writers take them in the same order (no deadlock); each event's seq is its
    user's new first plus its place among that user's events here."""
    counts = Counter(user_id for user_id, _ in events)
    users = sorted(counts)
    places: Counter[int] = Counter()
    offsets = []
    for user_id, _ in events:
        offsets.append(places[user_id])
        places[user_id] += 1
    now = timezone.now()
    payloads = [event.payload() for _, event in events]
    with connection.cursor() as cursor:
        cursor.execute(
            _NUMBER_AND_WRITE_SQL,
            [
                users,
                [counts[user] for user in users],
                now,
                [user_id for user_id, _ in events],
                [counts[user_id] for user_id, _ in events],
                offsets,
                [event.type for _, event in events],
                [json.dumps(payload) for payload in payloads],
            ],
        )
        written = {(user_id, seq): pk for pk, user_id, seq in cursor.fetchall()}
    firsts: dict[int, int] = {}
    for user_id, seq in written:
        firsts[user_id] = min(seq, firsts.get(user_id, seq))
    rows = []
    for (user_id, event), offset, payload in zip(events, offsets, payloads, strict=True):
        seq = firsts[user_id] + offset
        row = UserEvent(
            pk=written[(user_id, seq)],
            user_id=user_id,
            seq=seq,
            type=event.type,
            payload=payload,
            created_at=now,
        )
        row._state.adding = False
        rows.append(row)
    return rows


_CURSORS = EventCursor._meta.db_table
_NUMBER_AND_WRITE_SQL = (
    f"WITH cursor AS (INSERT INTO {_CURSORS} (user_id, last_seq) "  # noqa: S608 - no user input
    "SELECT user_id, n FROM unnest(%s::bigint[], %s::bigint[]) AS t(user_id, n) "
    "ORDER BY user_id "
    f"ON CONFLICT (user_id) DO UPDATE SET last_seq = {_CURSORS}.last_seq + EXCLUDED.last_seq "
    "RETURNING user_id, last_seq) "
    f"INSERT INTO {UserEvent._meta.db_table} (user_id, seq, type, payload, created_at) "
    "SELECT e.user_id, cursor.last_seq - e.n + 1 + e.k, e.type, e.payload::jsonb, %s "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::text[]) "
    "AS e(user_id, n, k, type, payload) JOIN cursor USING (user_id) "
    "RETURNING id, user_id, seq"
)


def publish_course_state(*, state: CourseSeats | CoursePresence) -> None:
    """Send state (not an event: no row, no seq) to a course's watchers after commit."""
    message = state.to_frame()
    transaction.on_commit(lambda: group_send(course_group(state.course), message))


def event_message(event: UserEvent) -> dict[str, Any]:
    """The frame a socket sends for an event row."""
    return {"type": event.type, "seq": event.seq, **event.payload}


def frame_text(frame: dict[str, Any]) -> str:
    """A frame as the text a socket sends."""
    return json.dumps(frame, separators=(",", ":"))


def event_layer_message(frame: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message carrying a frame to a group's sockets: its text, encoded
    here once rather than by each socket, and its seq (an event's), which each socket
    checks against what it sent (realtime.delivery)."""
    message: dict[str, Any] = {"type": EVENT_MESSAGE_TYPE, "text": frame_text(frame)}
    if (seq := frame.get("seq")) is not None:
        message["seq"] = seq
    return message


def latest_seq(user_id: int) -> int:
    return (
        EventCursor.objects.filter(user_id=user_id).values_list("last_seq", flat=True).first() or 0
    )


def group_send(group: str, message: dict[str, Any]) -> None:
    """A frame to every socket of a group, now (callers defer it to after commit)."""
    group_send_raw(group, event_layer_message(message))


def group_send_raw(group: str, message: dict[str, Any]) -> None:
    """A channel-layer message to a group; a failure is logged, never raised."""
    group_send_many([(group, message)])


def group_send_many(sends: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Channel-layer messages to groups, in order; a failure is logged, never raised.

    In a thread that runs sync code for a server's event loop (a request in daphne), they
    are sent on that loop, as async_to_sync does. Elsewhere (a Celery worker, a command, a
    thread of one's own) on this thread's own loop, kept for the next send with the layer's
    connection (portal.events.thread_loop)."""
    sends = list(sends)
    layer = get_channel_layer()
    if layer is None or not sends:
        return
    try:
        if _server_loop() is not None:
            async_to_sync(_send_all)(layer, sends)
        else:
            thread_loop.run(_send_all(layer, sends))
    except Exception:
        # At-most-once by design: the row is the truth, clients resume from it.
        log.warning(
            "realtime.group_send_failed", group=sends[0][0], messages=len(sends), exc_info=True
        )


async def _send_all(layer: Any, sends: list[tuple[str, dict[str, Any]]]) -> None:
    if len(sends) > 1 and hasattr(layer, "group_send_many"):  # pipelined (realtime.layers)
        await layer.group_send_many(sends)
        return
    for group, message in sends:
        await layer.group_send(group, message)


def _server_loop() -> Any:
    """The running loop this thread runs sync code for (sync_to_async), or None: the
    check async_to_sync makes itself (asgiref 3's thread-local, pinned in uv.lock; tested
    in tests/realtime/test_publish_loop.py)."""
    local = SyncToAsync.threadlocal
    loop = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None
    return loop if loop.is_running() else None


def _next_seqs(counts: Counter[int]) -> dict[int, int]:
    """SQLite: allocate `counts[user]` consecutive seqs for each user (the first of each),
    users in id order, with the ORM."""
    return {user_id: _next_seq(user_id, count) for user_id, count in sorted(counts.items())}


def _next_seq(user_id: int, count: int = 1) -> int:
    """The first of `count` seqs allocated for one user, with the ORM."""
    EventCursor.objects.get_or_create(user_id=user_id)
    EventCursor.objects.filter(user_id=user_id).update(last_seq=F("last_seq") + count)
    last = EventCursor.objects.values_list("last_seq", flat=True).get(user_id=user_id)
    return last - count + 1
