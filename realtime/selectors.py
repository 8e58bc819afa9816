"""Reads for the websocket consumer (called through database_sync_to_async)."""

from typing import Any

from django.db.models import Min

from catalog.models import Course
from portal.accounts.authentication import user_for_token
from portal.accounts.models import User
from portal.accounts.serializers import UserSerializer
from portal.events.models import EventCursor, UserEvent
from portal.events.publish import event_message, latest_seq
from portal.events.types import CourseSeats, Hello


def user_hello(user) -> Hello:
    if not user.is_authenticated:
        return Hello(user=None, seq=0)
    return Hello(user=UserSerializer(user).data, seq=latest_seq(user.pk))


def events_after(*, user_id: int, after: int, limit: int) -> list[dict[str, Any]]:
    rows = UserEvent.objects.filter(user_id=user_id, seq__gt=after).order_by("seq")[:limit]
    return [event_message(row) for row in rows]


def latest_seqs(*, user_ids: list[int]) -> dict[int, int]:
    """The latest seq of each user who has events (the others have 0)."""
    return dict(EventCursor.objects.filter(user_id__in=user_ids).values_list("user_id", "last_seq"))


def resume_gap(*, user_id: int, after: int) -> bool:
    """True when events the client has not seen were pruned already."""
    if after >= latest_seq(user_id):
        return False
    oldest = UserEvent.objects.filter(user_id=user_id).aggregate(oldest=Min("seq"))["oldest"]
    return oldest is None or oldest > after + 1


def resume_beyond_latest(*, user_id: int, after: int) -> bool:
    """True when `after` is past the user's latest event: a seq they never had."""
    return after > latest_seq(user_id)


def course_seats(*, slug: str) -> CourseSeats | None:
    row = (
        Course.objects.filter(slug=slug, published_at__isnull=False)
        .values("slug", "seats_taken", "capacity")
        .first()
    )
    if row is None:
        return None
    return CourseSeats(course=row["slug"], seats_taken=row["seats_taken"], capacity=row["capacity"])


def credentials_still_valid(*, user_id: int, bearer_token: str | None) -> bool:
    """The socket's user is still active and, for a token, the token still valid (not
    revoked in the admin, not expired)."""
    if bearer_token is not None:
        user = user_for_token(bearer_token)
        return user is not None and user.pk == user_id
    return User.objects.filter(pk=user_id, is_active=True).exists()
