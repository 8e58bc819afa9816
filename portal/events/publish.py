"""Publishing frames: per-user events (logged, numbered) and course state (not logged).

An event is a row written in the caller's transaction (so a rollback leaves nothing);
delivery to the user's sockets happens only after commit, through the channel layer,
which may drop it: a reconnecting client replays from the table with `resume`.
"""

import hashlib
from typing import Any

import structlog
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.db.models import F

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
    if not isinstance(event, Event):
        raise TypeError(f"publish_to_user takes a portal.events.types.Event, not {event!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publish_to_user must run inside the transaction that caused it")
    row = UserEvent.objects.create(
        user_id=user_id, seq=_next_seq(user_id), type=event.type, payload=event.payload()
    )
    message = event_message(row)
    transaction.on_commit(lambda: group_send(user_group(user_id), message))
    return row


def publish_course_state(*, state: CourseSeats | CoursePresence) -> None:
    """Send state (not an event: no row, no seq) to a course's watchers after commit."""
    message = state.to_frame()
    transaction.on_commit(lambda: group_send(course_group(state.course), message))


def event_message(event: UserEvent) -> dict[str, Any]:
    """The frame a socket sends for an event row."""
    return {"type": event.type, "seq": event.seq, **event.payload}


def latest_seq(user_id: int) -> int:
    return (
        EventCursor.objects.filter(user_id=user_id).values_list("last_seq", flat=True).first() or 0
    )


def group_send(group: str, message: dict[str, Any]) -> None:
    """A frame to every socket of a group, now (callers defer it to after commit)."""
    group_send_raw(group, {"type": EVENT_MESSAGE_TYPE, "message": message})


def group_send_raw(group: str, message: dict[str, Any]) -> None:
    """A channel-layer message to a group; a failure is logged, never raised."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # At-most-once by design: the row is the truth, clients resume from it.
        log.warning("realtime.group_send_failed", group=group, exc_info=True)


def _next_seq(user_id: int) -> int:
    """Allocate the user's next seq; the cursor row lock serialises concurrent writers."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(EventCursor._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (user_id, last_seq) VALUES (%s, 1) "  # noqa: S608 - no user input
                f"ON CONFLICT (user_id) DO UPDATE SET last_seq = {table}.last_seq + 1 "
                "RETURNING last_seq",
                [user_id],
            )
            return cursor.fetchone()[0]
    # SQLite (the embedded default) serialises writers anyway.
    EventCursor.objects.get_or_create(user_id=user_id)
    EventCursor.objects.filter(user_id=user_id).update(last_seq=F("last_seq") + 1)
    return EventCursor.objects.values_list("last_seq", flat=True).get(user_id=user_id)
