"""Publishing events to users: the one function catalog and enrollment call.

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

from realtime.models import EventCursor, UserEvent

log = structlog.get_logger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def course_group(slug: str) -> str:
    # Group names must stay under 100 characters; long slugs are hashed.
    if len(slug) <= 80:
        return f"course.{slug}"
    return f"course.h{hashlib.sha256(slug.encode()).hexdigest()[:40]}"


def close_sockets(group: str) -> None:
    """Close every socket in a group (a revoked token's, an ended session's)."""
    _group_send_raw(group, {"type": "portal.close"})


def _next_seq(user_id: int) -> int:
    """Allocate the user's next seq; the cursor row lock serialises concurrent writers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO realtime_eventcursor (user_id, last_seq) VALUES (%s, 1) "
                "ON CONFLICT (user_id) DO UPDATE SET last_seq = realtime_eventcursor.last_seq + 1 "
                "RETURNING last_seq",
                [user_id],
            )
            return cursor.fetchone()[0]
    # SQLite (the embedded default) serialises writers anyway.
    EventCursor.objects.get_or_create(user_id=user_id)
    EventCursor.objects.filter(user_id=user_id).update(last_seq=F("last_seq") + 1)
    return EventCursor.objects.values_list("last_seq", flat=True).get(user_id=user_id)


def publish_to_user(*, user_id: int, type: str, payload: dict[str, Any]) -> UserEvent:
    """Record an event for a user and deliver it after the current transaction commits."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publish_to_user must run inside the transaction that caused it")
    event = UserEvent.objects.create(
        user_id=user_id, seq=_next_seq(user_id), type=type, payload=payload
    )
    message = event_message(event)
    transaction.on_commit(lambda: _group_send(user_group(user_id), message))
    return event


def event_message(event: UserEvent) -> dict[str, Any]:
    """The frame a socket sends for an event row."""
    return {"type": event.type, "seq": event.seq, **event.payload}


def latest_seq(user_id: int) -> int:
    return (
        EventCursor.objects.filter(user_id=user_id).values_list("last_seq", flat=True).first() or 0
    )


def publish_course_state(*, slug: str, payload: dict[str, Any]) -> None:
    """Send state (not an event: no row, no seq) to a course's watchers after commit."""
    message = {"type": "course.seats", **payload}
    transaction.on_commit(lambda: _group_send(course_group(slug), message))


def _group_send(group: str, message: dict[str, Any]) -> None:
    _group_send_raw(group, {"type": "portal.event", "message": message})


def _group_send_raw(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # At-most-once by design: the row is the truth, clients resume from it.
        log.warning("realtime.group_send_failed", group=group, exc_info=True)
