"""Reads for the websocket consumer (called through database_sync_to_async)."""

from typing import Any

from django.db.models import Min

from catalog.models import Course, CourseInstructor
from catalog.waitlist import waiting_count
from portal.accounts.authentication import user_for_token
from portal.accounts.models import User
from portal.accounts.serializers import UserSerializer
from portal.events.models import EventCursor, UserEvent
from portal.events.publish import event_message, latest_seq
from portal.events.types import CourseSeats, CourseWaitlist, Frame, Hello


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


def course_watch_state(*, slug: str) -> list[Frame] | None:
    """What a new watcher of the course is sent at once: its seats and, when it has a
    capacity (a line can form), how many wait in line. None: no such published course."""
    row = (
        Course.objects.filter(slug=slug, published_at__isnull=False)
        .values("id", "slug", "seats_taken", "capacity")
        .first()
    )
    if row is None:
        return None
    seats = CourseSeats(
        course=row["slug"], seats_taken=row["seats_taken"], capacity=row["capacity"]
    )
    if row["capacity"] is None:
        return [seats]
    return [seats, CourseWaitlist(course=slug, waiting=waiting_count(course_id=row["id"]))]


def course_learner(*, slug: str, user) -> bool:
    """Whether the user counts among the course's learners in `course.presence`: signed
    in, not staff, not one of its instructors (those see the author view of its page)."""
    if not user.is_authenticated or user.is_staff:
        return False
    return not CourseInstructor.objects.filter(course__slug=slug, user_id=user.pk).exists()


def credentials_still_valid(*, user_id: int, bearer_token: str | None) -> bool:
    """The socket's user is still active and, for a token, the token still valid (not
    revoked in the admin, not expired)."""
    if bearer_token is not None:
        user = user_for_token(bearer_token)
        return user is not None and user.pk == user_id
    return User.objects.filter(pk=user_id, is_active=True).exists()
