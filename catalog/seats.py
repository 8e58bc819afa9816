"""The seat rule: a course's `seats_taken` moves only here.

A seat is taken by one conditional `UPDATE … RETURNING` (never past `capacity`, only on a
published course) and released by another (never below zero); the row lock each takes
lasts from that statement to the caller's commit, so callers run them last in their
transaction. Every move tells the course's watchers (`course.seats`, after commit) and
retires the course's cached answers.
"""

from dataclasses import dataclass

from django.db import connection

from catalog import cache as catalog_cache
from catalog.models import Course
from portal.events.publish import publish_course_state
from portal.events.types import CourseSeats

_TAKE = "published_at IS NOT NULL AND (capacity IS NULL OR seats_taken < capacity)"
_TAKE_MANY = "published_at IS NOT NULL AND (capacity IS NULL OR seats_taken + %s <= capacity)"
_RELEASE = "seats_taken > 0"


@dataclass(frozen=True)
class Seats:
    slug: str
    seats_taken: int
    capacity: int | None


def _move(
    *, course_id: int, condition: str, delta: int, condition_params: tuple = ()
) -> Seats | None:
    table = connection.ops.quote_name(Course._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET seats_taken = seats_taken + %s "  # noqa: S608 - no user input
            f"WHERE id = %s AND {condition} RETURNING slug, seats_taken, capacity",
            [delta, course_id, *condition_params],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    seats = Seats(*row)
    course_seats_announce(seats=seats)
    return seats


def course_seat_take(*, course_id: int) -> Seats | None:
    """Take a seat if one is free on a published course; None when there is none."""
    return _move(course_id=course_id, condition=_TAKE, delta=1)


def course_seats_hold(*, course_id: int, count: int) -> Seats | None:
    """Take `count` seats at once, all or none (the waitlist's offers hold them)."""
    return _move(course_id=course_id, condition=_TAKE_MANY, delta=count, condition_params=(count,))


def course_seat_release(*, course_id: int) -> Seats | None:
    """Give a seat back (None if none was taken)."""
    return _move(course_id=course_id, condition=_RELEASE, delta=-1)


def course_seats_announce(*, seats: Seats) -> None:
    """Tell the course's watchers after commit and retire its cached answers (cached search
    answers stay: they are served with current seats laid over them)."""
    publish_course_state(
        state=CourseSeats(course=seats.slug, seats_taken=seats.seats_taken, capacity=seats.capacity)
    )
    catalog_cache.seats_moved_on_commit(seats.slug)
